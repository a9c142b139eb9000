// gitlab-runner's trace cadence and flags through `tart run` (protocol reference §4.1, §4.3, §7.3):
// no keep-alive PUT before 30 s of silence, debug_trace=true with CI_DEBUG_TRACE, the header's
// system ID and feature flags lines, FF_* exported with their resolved values.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FakeGitLab } from '../support/fake-gitlab/index.js';
import { startWidgetDaemon } from './daemon-harness.js';

const TOKEN = 'glrt-trace_cadence_test_01';
const ESC = '\x1b';

describe('trace cadence, debug_trace and the header', () => {
  let fake: FakeGitLab;
  let cleanup: () => Promise<void>;

  before(async () => {
    ({ fake, cleanup } = await startWidgetDaemon({
      token: TOKEN,
      files: { 'README.md': '# widget\n' },
      daemon: {
        // Tart's default keep-alive cadence (30 s), not the harness's fast one.
        traceForceSendIntervalMs: 0,
        runnerToml: '[runners.feature_flags]\n  FF_SCRIPT_SECTIONS = true\n  FF_USE_FASTZIP = true',
      },
    }));
  });

  after(() => cleanup());

  const finished = (id: number) =>
    fake.waitForJob(id, (job) => job.state === 'success' || job.state === 'failed', 30_000);

  it('a job silent for 4 s gets no keep-alive PUT: only the accepting PUT and the final one', async () => {
    const job = fake.enqueueJob({ project: 'acme/widget', script: ['echo start', 'sleep 4', 'echo end'] });
    const done = await finished(job.id);
    assert.equal(done.state, 'success');
    assert.deepEqual(
      done.updates.map((update) => update.state),
      ['running', 'success'],
      'gitlab-runner touches the job only after forceSendInterval (30 s) without a send',
    );
    assert.ok(done.tracePatches >= 2, 'the trace itself went out incrementally');
  });

  it('sends debug_trace=true on every PATCH when CI_DEBUG_TRACE is "1"; false otherwise', async () => {
    const patchesOf = (id: number) =>
      fake.requests.filter(
        (request) => request.method === 'PATCH' && request.path.startsWith(`/api/v4/jobs/${id}/trace`),
      );
    const debug = fake.enqueueJob({
      project: 'acme/widget',
      script: ['echo debug'],
      variables: [{ key: 'CI_DEBUG_TRACE', value: '1', public: true }],
    });
    assert.equal((await finished(debug.id)).state, 'success');
    assert.ok(patchesOf(debug.id).length > 0);
    for (const patch of patchesOf(debug.id)) assert.match(patch.path, /[?&]debug_trace=true(&|$)/);
    assert.match(fake.job(debug.id).trace.toString(), /\+ echo debug/, 'and xtrace is on');
    const plain = fake.enqueueJob({ project: 'acme/widget', script: ['echo plain'] });
    await finished(plain.id);
    for (const patch of patchesOf(plain.id)) assert.match(patch.path, /[?&]debug_trace=false(&|$)/);
  });

  it('the header has the system ID and the feature flags that differ from default; FF_* are exported resolved', async () => {
    const job = fake.enqueueJob({
      project: 'acme/widget',
      script: [
        'echo "sections=$FF_SCRIPT_SECTIONS zip=$FF_USE_FASTZIP ts=$FF_TIMESTAMPS net=$FF_NETWORK_PER_BUILD"',
      ],
      variables: [
        { key: 'FF_SCRIPT_SECTIONS', value: 'false', public: true },
        { key: 'FF_NETWORK_PER_BUILD', value: 'true', public: true },
      ],
    });
    const trace = (await finished(job.id)).trace.toString();
    const lines = trace.split('\n');
    assert.match(lines[0] ?? '', /^\x1b\[0KRunning with tart \S+ \(\S+\)\x1b\[0;m$/);
    assert.equal(lines[1], `${ESC}[0K  on test-runner trace_cad, system ID: s_0123456789ab${ESC}[0;m`);
    assert.equal(
      lines[2],
      `${ESC}[0K  feature flags: FF_NETWORK_PER_BUILD:true, FF_SCRIPT_SECTIONS:true${ESC}[0;m`,
    );
    assert.match(
      trace,
      /sections=true zip=true ts=true net=true/,
      'config beats the job; variables beat defaults',
    );
  });
});
