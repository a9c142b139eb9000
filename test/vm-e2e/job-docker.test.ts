// SLOW (boots one QEMU VM under TCG; run inside `flock /tmp/tart-vm.lock`). Docker in the job
// (#11): a docker:dind-style service and a client job image, both the `docker` test image built
// from Debian's docker.io, pulled from a real docker-registry on 127.0.0.1. Inside the job's
// microVM the service's dockerd starts (cgroup2, its VOLUME /var/lib/docker on the scratch disk,
// bridge, veth and netfilter modules loaded on demand from the helper root), and the job builds a
// FROM-scratch image with a static busybox COPY'd in (nothing pulled from inside the guest) and
// runs it on dockerd's default bridge network.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pushTestImage, testImageLayout } from '../support/oci/test-images.js';
import { startImageDaemonEnv, type ImageDaemonEnv } from './image-daemon-env.js';

const RUNNER_TOKEN = 'glrt-docker_in_job_e2e_01';
const FINAL = ['success', 'failed', 'canceled'];
const WAIT_MS = 900_000;

describe('Docker in the job: docker build and docker run inside the microVM', () => {
  let env: ImageDaemonEnv;

  before(async () => {
    env = await startImageDaemonEnv({
      name: 'job-docker',
      runnerToken: RUNNER_TOKEN,
      readme: '# an image to build\n',
      push: async (registry) => pushTestImage(await testImageLayout('docker'), registry.host, 'library/docker', '20-dind'),
      allowedServices: (registry) => [`${registry.host}/**`],
      // dockerd's first start under TCG on a loaded 2-core host takes tens of seconds.
      // /certs/client shared by the job's root and the service's, as GitLab's docs set up dind with TLS.
      vmLines: ['wait_for_services_timeout = 240', 'volumes = ["/certs/client", "/cache"]'],
    });
  });

  after(async () => {
    await env?.cleanup();
  });

  it('builds a FROM scratch image with the dind service and runs it on the default bridge', async () => {
    const { registry, fake, harness } = env;
    const image = `${registry.host}/library/docker:20-dind`;
    const job = fake.enqueueJob({
      project: 'acme/widget',
      image,
      variables: [
        { key: 'DOCKER_HOST', value: 'tcp://docker:2375', public: true, masked: false },
        { key: 'DOCKER_TLS_CERTDIR', value: '', public: true, masked: false },
      ],
      services: [{ name: image, alias: 'docker' }],
      script: [
        "docker version --format 'server {{.Server.Version}} on {{.Server.Os}}'",
        "docker info --format 'driver={{.Driver}} cgroup={{.CgroupVersion}}'",
        'mkdir -p ctx && cp /bin/busybox ctx/busybox',
        'printf \'FROM scratch\\nCOPY busybox /bin/busybox\\nCMD ["/bin/busybox", "echo", "hello from a container built in the job"]\\n\' > ctx/Dockerfile',
        'docker build -t tart/hello:1 ctx',
        'docker run --rm tart/hello:1',
        "docker run --rm tart/hello:1 /bin/busybox sh -c 'echo \"inside: $(/bin/busybox ip -4 -o addr show eth0 | /bin/busybox awk \"{ print \\$4 }\")\"'",
        'docker images --format "{{.Repository}}:{{.Tag}}" | grep -x tart/hello:1',
      ],
    });
    const started = Date.now();
    const done = await fake.waitForJob(job.id, (j) => FINAL.includes(j.state), WAIT_MS);
    const trace = done.trace.toString();
    console.log(`docker job took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(done.state, 'success', trace);
    const waiting = harness.firstSeen(job.id, 'Waiting for services to be up and running');
    const prepared = harness.firstSeen(job.id, 'section_end:');
    if (waiting !== undefined && prepared !== undefined) console.log(`dockerd listened ${((prepared - waiting) / 1000).toFixed(1)} s after the wait began`);
    assert.match(trace, /\nserver 20\.10\.\d+\S* on linux\n/);
    // overlay2 on the VOLUME (a real ext4 on the scratch disk), under the unified hierarchy.
    assert.match(trace, /\ndriver=overlay2 cgroup=2\n/);
    assert.match(trace, /Successfully tagged tart\/hello:1/);
    assert.match(trace, /\nhello from a container built in the job\n/);
    // The container's own network namespace on dockerd's bridge (172.17.0.0/16 by default).
    assert.match(trace, /\ninside: 172\.17\.\d+\.\d+\/16\n/);
    assert.doesNotMatch(trace, /probably didn't start properly/);
  });

  it("runs dockerd in the job's own root (no service), its /var/lib/docker the image's VOLUME", async () => {
    const { registry, fake } = env;
    const job = fake.enqueueJob({
      project: 'acme/widget',
      image: `${registry.host}/library/docker:20-dind`,
      script: [
        'dockerd --host=unix:///var/run/docker.sock </dev/null >/tmp/dockerd.log 2>&1 &',
        'for i in $(seq 240); do docker info >/dev/null 2>&1 && break; sleep 1; done',
        "docker info --format 'driver={{.Driver}}'",
        'grep " /var/lib/docker " /proc/self/mounts | cut -d" " -f2,3',
        'mkdir -p ctx && cp /bin/busybox ctx/ && printf "FROM scratch\\nCOPY busybox /busybox\\n" > ctx/Dockerfile',
        'docker build -q -t tart/own:1 ctx >/dev/null',
        'docker run --rm tart/own:1 /busybox echo "hello from dockerd in the job root"',
      ],
    });
    const done = await fake.waitForJob(job.id, (j) => FINAL.includes(j.state), WAIT_MS);
    const trace = done.trace.toString();
    assert.equal(done.state, 'success', trace);
    assert.match(trace, /\ndriver=overlay2\n/);
    assert.match(trace, /\n\/var\/lib\/docker ext4\n/);
    assert.match(trace, /\nhello from dockerd in the job root\n/);
  });

  it('talks to the dind service over TLS with the client certs the service left in the shared /certs/client volume', async () => {
    const { registry, fake } = env;
    const image = `${registry.host}/library/docker:20-dind`;
    const job = fake.enqueueJob({
      project: 'acme/widget',
      image,
      // GitLab's recommended form: the image's DOCKER_TLS_CERTDIR=/certs, DOCKER_HOST on 2376.
      variables: [
        { key: 'DOCKER_HOST', value: 'tcp://docker:2376', public: true, masked: false },
        { key: 'DOCKER_TLS_VERIFY', value: '1', public: true, masked: false },
        { key: 'DOCKER_CERT_PATH', value: '/certs/client', public: true, masked: false },
      ],
      services: [{ name: image, alias: 'docker' }],
      script: [
        'ls /certs/client | sort | tr "\\n" " "; echo',
        "docker version --format 'tls server {{.Server.Version}}'",
        'if DOCKER_TLS_VERIFY= DOCKER_CERT_PATH= docker -H tcp://docker:2376 version >/dev/null 2>&1; then echo "NO-TLS ACCEPTED"; else echo "NO-TLS REFUSED"; fi',
        'mkdir -p ctx && cp /bin/busybox ctx/ && printf "FROM scratch\\nCOPY busybox /busybox\\n" > ctx/Dockerfile',
        'docker build -q -t tart/tls:1 ctx >/dev/null && docker run --rm tart/tls:1 /busybox echo "hello over TLS"',
      ],
    });
    const done = await fake.waitForJob(job.id, (j) => FINAL.includes(j.state), WAIT_MS);
    const trace = done.trace.toString();
    assert.equal(done.state, 'success', trace);
    assert.match(trace, /\nca\.pem cert\.pem csr\.pem ext\.cnf key\.pem \n/);
    assert.match(trace, /\ntls server 20\.10\.\d+/);
    assert.match(trace, /\nNO-TLS REFUSED\n/);
    assert.match(trace, /\nhello over TLS\n/);
    assert.doesNotMatch(trace, /volume "\/certs\/client" skipped/);
  });
});
