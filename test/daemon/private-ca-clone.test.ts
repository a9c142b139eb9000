// An HTTPS GitLab with a private CA: with `tls-ca-file` alone, the API calls and the job's git
// clone both trust it; the job sees CI_SERVER_TLS_CA_FILE (job execution reference §10, get_sources).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FakeGitLab } from '../support/fake-gitlab/index.js';
import { createPrivateCa, type PrivateCa } from '../support/private-ca.js';
import { startWidgetDaemon } from './daemon-harness.js';

const TOKEN = 'glrt-private_ca_clone_0001';

describe('HTTPS GitLab with a private CA', () => {
  let ca: PrivateCa;
  let fake: FakeGitLab;
  let cleanup: () => Promise<void>;

  before(async () => {
    ca = createPrivateCa();
    ({ fake, cleanup } = await startWidgetDaemon({
      token: TOKEN,
      files: { 'README.md': '# served over https\n' },
      fake: { tls: { key: ca.serverKey, cert: ca.serverCert } },
      daemon: { runnerToml: `tls-ca-file = "${ca.caFile}"` },
    }));
  });

  after(async () => {
    await cleanup();
    ca.cleanup();
  });

  it('the clone inside the job succeeds with tls-ca-file alone', async () => {
    assert.match(fake.url, /^https:\/\//);
    const job = fake.enqueueJob({
      project: 'acme/widget',
      script: ['cat README.md', 'grep -q "BEGIN CERTIFICATE" "$CI_SERVER_TLS_CA_FILE" && echo "ca file: ok"'],
    });
    const done = await fake.waitForJob(job.id, (j) => j.state === 'success' || j.state === 'failed', 60_000);
    const trace = done.trace.toString();
    assert.equal(done.state, 'success', trace);
    assert.match(trace, /# served over https/);
    assert.match(trace, /ca file: ok/);
    assert.ok(
      fake.requests.some((request) => request.endpoint === 'git'),
      'git spoke to the HTTPS fake',
    );
  });
});
