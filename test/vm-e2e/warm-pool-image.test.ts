// SLOW (boots two QEMU VMs under TCG; run inside `flock /tmp/tart-vm.lock`). A warm pool with a
// default_image (#12, pre-booted image digests): the daemon pulls the image from a real
// docker-registry on 127.0.0.1 and boots its pooled VM with the image's root already built; a job
// that names no image takes that VM and runs in the image; a job in another image boots cold.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pushTestImage, testImageLayout } from '../support/oci/test-images.js';
import { waitFor } from '../support/wait-for.js';
import { startImageDaemonEnv, type ImageDaemonEnv } from './image-daemon-env.js';

const FINAL = ['success', 'failed', 'canceled'];
const WAIT_MS = 400_000;

describe('a warm pool of VMs booted with the default image', () => {
  let env: ImageDaemonEnv;

  before(async () => {
    env = await startImageDaemonEnv({
      name: 'warm-pool-image',
      runnerToken: 'glrt-warm_pool_image_01',
      readme: '# widget in a pooled image\n',
      push: async (registry) => {
        pushTestImage(await testImageLayout('busybox'), registry.host, 'tools/busybox', '1.0');
        pushTestImage(await testImageLayout('busybox-user'), registry.host, 'tools/as-user', '1.0');
      },
      vmLines: (registry) => ['idle_count = 1', `default_image = "${registry.host}/tools/busybox:1.0"`],
    });
  });

  after(async () => {
    await env?.cleanup();
  });

  it('a job naming no image runs in the default image in the pooled VM; another image boots cold', async () => {
    const { fake, harness, registry } = env;
    await waitFor(() => harness.logs().includes('pooled VM ready'), WAIT_MS, 'the pooled VM');
    assert.match(harness.logs(), /"key":"default@sha256:[0-9a-f]{64}#[0-9a-f]{12}"[^\n]*"msg":"pooled VM ready"/);
    const pooled = fake.enqueueJob({ project: 'acme/widget', image: null, script: ['cat /etc/tart-test-image', 'test ! -e /bin/bash && echo NO-BASH', 'echo "REPO $(cat README.md)"'] });
    const done = await fake.waitForJob(pooled.id, (j) => FINAL.includes(j.state), WAIT_MS);
    const trace = done.trace.toString();
    assert.equal(done.state, 'success', trace);
    assert.match(trace, /Using pooled VM pool-[0-9a-f]+ \(ready for [\d.]+ s\)/);
    assert.match(trace, /\nbusybox\n/);
    assert.match(trace, /\nNO-BASH\n/);
    assert.match(trace, /\nREPO # widget in a pooled image\n/);

    const cold = fake.enqueueJob({ project: 'acme/widget', image: `${registry.host}/tools/as-user:1.0`, script: ['id -u'] });
    const coldDone = await fake.waitForJob(cold.id, (j) => FINAL.includes(j.state), WAIT_MS);
    const coldTrace = coldDone.trace.toString();
    assert.equal(coldDone.state, 'success', coldTrace);
    assert.doesNotMatch(coldTrace, /Using pooled VM/);
    assert.match(coldTrace, /\n1000\n/);
  });
});
