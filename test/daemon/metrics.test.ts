// /metrics and /healthz on listen_address, with gitlab-runner-style metric names.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeGitLab, type FakeGitLab } from '../support/fake-gitlab/index.js';
import { createRepo, type TestRepo } from '../support/git-repo.js';
import { createDaemonMetrics } from '../../src/daemon/metrics.js';
import { parseListenAddress } from '../../src/daemon/status-server.js';
import { startDaemon, type Harness } from './daemon-harness.js';
import { waitFor } from '../support/wait-for.js';

describe('the status server', () => {
  let fake: FakeGitLab;
  let repo: TestRepo;
  let harness: Harness;

  before(async () => {
    fake = await startFakeGitLab();
    repo = await createRepo({ files: { 'README.md': 'hi\n' } });
    fake.addProject({ path: 'acme/widget', repo });
    fake.addRunner({ token: 'glrt-metrics_token_00001' });
    harness = await startDaemon({
      url: fake.url,
      token: 'glrt-metrics_token_00001',
      globalToml: 'listen_address = "127.0.0.1:0"',
    });
  });

  after(async () => {
    await harness.cleanup();
    await fake.close();
    await repo.cleanup();
  });

  it('counts jobs, durations and API requests by endpoint and status', async () => {
    const job = fake.enqueueJob({ project: 'acme/widget', script: ['exit 1'] });
    await fake.waitForJob(job.id, (j) => j.state === 'failed', 30_000);
    await waitFor(() => harness.daemonIdle(), 5_000);
    const response = await fetch(`http://${harness.daemon.address}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/plain/);
    const text = await response.text();
    const runner = 'runner="metrics_t",runner_name="test-runner",system_id="s_0123456789ab"';
    const line = (name: string, labels: string, value: string) =>
      new RegExp(`^${name}\\{${labels.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\} ${value}$`, 'm');
    assert.match(
      text,
      line('gitlab_runner_jobs', `${runner},state="running",executor_stage="",stage=""`, '0'),
    );
    assert.match(text, line('gitlab_runner_jobs_total', runner, '1'));
    assert.match(
      text,
      line('gitlab_runner_failed_jobs_total', `${runner},failure_reason="script_failure"`, '1'),
    );
    assert.match(text, line('gitlab_runner_job_duration_seconds_count', runner, '1'));
    const api = 'runner="metrics_t",system_id="s_0123456789ab"';
    assert.match(
      text,
      line('gitlab_runner_api_request_statuses_total', `${api},endpoint="request_job",status="201"`, '1'),
    );
    assert.match(
      text,
      line('gitlab_runner_api_request_statuses_total', `${api},endpoint="patch_trace",status="202"`, '\\d+'),
    );
    assert.match(
      text,
      line('gitlab_runner_api_request_statuses_total', `${api},endpoint="update_job",status="200"`, '\\d+'),
    );
    assert.match(text, /^gitlab_runner_concurrent 1$/m);
    assert.match(text, line('gitlab_runner_limit', runner, '0'));
    assert.match(text, /^gitlab_runner_errors_total\{level="warning"\} 0$/m);
    assert.doesNotMatch(
      text,
      /^tart_(jobs|api|errors|concurrent|limit|process)/m,
      'no tart_* copies of gitlab-runner figures',
    );
    assert.doesNotMatch(text, /glrt-|glcbt-/);
  });

  it("serves the process collectors under their standard names (process_*, as gitlab-runner's)", async () => {
    const text = await createDaemonMetrics().render();
    assert.match(text, /^process_cpu_user_seconds_total /m);
    assert.match(text, /^process_resident_memory_bytes /m);
    assert.doesNotMatch(text, /tart_process_/);
  });

  it('answers /healthz with 200 while running', async () => {
    const response = await fetch(`http://${harness.daemon.address}/healthz`);
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { status: string }).status, 'ok');
  });

  it('reads tart_pool_vms afresh on every scrape: a runner whose executor has no pool any more shows none', async () => {
    const metrics = createDaemonMetrics({ defaultMetrics: false });
    let counts: Record<string, number> | undefined = { booting: 1, idle: 2, in_use: 0 };
    metrics.watchPool('pooled', () => counts);
    assert.match(await metrics.render(), /tart_pool_vms\{runner="pooled",state="idle"\} 2\b/);
    counts = { booting: 0, idle: 0, in_use: 1 };
    assert.match(await metrics.render(), /tart_pool_vms\{runner="pooled",state="idle"\} 0\b/);
    counts = undefined;
    assert.doesNotMatch(await metrics.render(), /tart_pool_vms\{runner="pooled"/);
  });

  it('parses gitlab-runner listen_address forms', () => {
    assert.deepEqual(parseListenAddress(':9252'), { host: '0.0.0.0', port: 9252 });
    assert.deepEqual(parseListenAddress('[::1]:9252'), { host: '::1', port: 9252 });
    assert.deepEqual(parseListenAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
    assert.throws(() => parseListenAddress('nonsense'), { code: 'LISTEN_ADDRESS_INVALID' });
  });
});
