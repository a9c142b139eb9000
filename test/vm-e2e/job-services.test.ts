// SLOW (boots one QEMU VM under TCG; run inside `flock /tmp/tart-vm.lock`). `services:` end to end
// (#11): the daemon pulls a busybox web service, a service that dies at once and a Debian
// redis-server from a real docker-registry on 127.0.0.1, runs them in the job's microVM beside
// the job's own busybox image, waits for their ports, and the job reaches them by alias.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pushTestImage, testImageLayout } from '../support/oci/test-images.js';
import { startImageDaemonEnv, type ImageDaemonEnv } from './image-daemon-env.js';

const RUNNER_TOKEN = 'glrt-services_e2e_token_01';
const FINAL = ['success', 'failed', 'canceled'];
const WAIT_MS = 400_000;
const SECRET = 'n0t-for-services-Pa55';

describe('services: beside the job in its microVM', () => {
  let env: ImageDaemonEnv;

  before(async () => {
    env = await startImageDaemonEnv({
      name: 'job-services',
      runnerToken: RUNNER_TOKEN,
      readme: '# widget with services\n',
      push: async (registry) => {
        pushTestImage(await testImageLayout('busybox'), registry.host, 'tools/busybox', '1.0');
        pushTestImage(await testImageLayout('busybox-web'), registry.host, 'tools/web', '1');
        pushTestImage(await testImageLayout('busybox-user'), registry.host, 'tools/user', '1');
        pushTestImage(await testImageLayout('redis'), registry.host, 'library/redis', '7');
      },
      allowedServices: (registry) => [`${registry.host}/**`],
      // Long enough for the web service's 3 s sleep under TCG; short for the one that never listens.
      vmLines: ['wait_for_services_timeout = 12'],
    });
  });

  after(async () => {
    await env?.cleanup();
  });

  it('waits for a slow web service, warns about a dead one with its log, and the job reaches both live ones by alias', async () => {
    const { registry, fake, harness } = env;
    const web = `${registry.host}/tools/web:1`;
    const job = fake.enqueueJob({
      project: 'acme/widget',
      image: `${registry.host}/tools/busybox:1.0`,
      variables: [
        { key: 'WEB_GREETING', value: 'hello-from-the-job', public: true, masked: false },
        { key: 'CI_DEBUG_SERVICES', value: 'true', public: true, masked: false },
        { key: 'PROJECT_SECRET', value: SECRET, public: false, masked: false },
      ],
      // The web service starts last, right before the wait begins.
      services: [
        `${registry.host}/library/redis:7`,
        // The web image, dying at once; its own port, so the web service's cannot answer for it.
        { name: web, alias: 'crash', entrypoint: ['sh', '-c', 'env | sort; echo "crash: giving up at once"; exit 3'], variables: { HEALTHCHECK_TCP_PORT: '81' } },
        // The image's USER builder (uid 1000, also in staff), as Docker runs it.
        {
          name: `${registry.host}/tools/user:1`,
          alias: 'builder',
          entrypoint: ['sh', '-c', 'echo "user: $(id) home=$HOME in $(pwd)"; exec httpd -f -p 8081 -h /home/builder'],
          variables: { HEALTHCHECK_TCP_PORT: '8081' },
        },
        // services:docker:user over the image's (root) user.
        {
          name: web,
          alias: 'nobody',
          entrypoint: ['sh', '-c', 'echo "as: $(id -u):$(id -g)"; exec httpd -f -p 8082 -h /tmp'],
          variables: { HEALTHCHECK_TCP_PORT: '8082' },
          executor_opts: { docker: { user: 'nobody' } },
        },
        { name: web, alias: 'web' },
      ],
      // No retry loop: the first command must find the web service listening.
      script: [
        'wget -qO- http://web/',
        'printf "PING\\r\\nQUIT\\r\\n" | nc 127.0.0.1-library-redis 6379',
        'for s in /proc/[0-9]*/cmdline; do if tr "\\0" " " <$s | grep -q "^httpd -f -p 8081 "; then echo "httpd 8081 uid: $(awk \'/^Uid:/ { print $2 }\' ${s%cmdline}status)"; fi; done',
      ],
    });
    const started = Date.now();
    const done = await fake.waitForJob(job.id, (j) => FINAL.includes(j.state), WAIT_MS);
    const trace = done.trace.toString();
    console.log(`services job took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(done.state, 'success', trace);

    // Each service is announced and pulled on the host, then all are waited for at once.
    assert.match(trace, /Starting service 127\.0\.0\.1\/tools\/web:1\.\.\./);
    assert.match(trace, /Starting service 127\.0\.0\.1\/library\/redis:7\.\.\./);
    assert.match(trace, /Skipping alias "127\.0\.0\.1__tools__web" for service ".*\/tools\/web:1" \(services\[3\]\): alias is already in use by another service\./);
    assert.match(trace, /Waiting for services to be up and running \(timeout 12 seconds\)\.\.\./);

    // (a) The web service's page, with the job's variable in it, at the job's first command; and
    // prepare_executor ended only after the service's 3 s sleep: the readiness wait held it back.
    assert.match(trace, /\nweb says: hello-from-the-job\n/);
    const waiting = harness.firstSeen(job.id, 'Waiting for services to be up and running');
    const prepared = harness.firstSeen(job.id, 'section_end:');
    assert.ok(waiting !== undefined && prepared !== undefined && prepared - waiting >= 2500, `prepare_executor ended ${prepared} vs wait ${waiting}`);
    console.log(`services waited for ${((prepared - waiting) / 1000).toFixed(1)} s`);

    // (b) The dead service: gitlab-runner's warning with its log tail; its env had the job's
    // public variables over the image's Env, and no secret.
    const warning = new RegExp(
      `\\*\\*\\* WARNING:\\x1b\\[0;m Service job${job.id}-127\\.0\\.0\\.1__tools__web-1 probably didn't start properly\\.\\n\\n` +
        `Health check error:\\nservice "job${job.id}-127\\.0\\.0\\.1__tools__web-1" exited with code 3 before it listened\\n\\n` +
        'Service container logs:\\n[\\s\\S]*Z crash: giving up at once\\n',
    );
    assert.match(trace, warning);
    assert.match(trace, /\dZ WEB_GREETING=hello-from-the-job\n/);
    assert.match(trace, /\dZ TART_TEST_GREETING=hello-from-image\n/);
    assert.match(trace, /\dZ HEALTHCHECK_TCP_PORT=81\n/);
    assert.ok(!trace.includes(SECRET), 'a secret reached a service');

    // (c) redis-server by the alias derived from its image name.
    assert.match(trace, /\+PONG\r?\n/);

    // CI_DEBUG_SERVICES: the services' output, prefixed with their aliases.
    assert.match(trace, /\x1b\[0;37m\[service:web\] \d{4}-\d\d-\d\dT[\d:.]+Z web: listening\x1b\[0;m/);
    assert.match(trace, /\[service:127\.0\.0\.1__tools__web-127\.0\.0\.1-tools-web-crash\] [\d\-T:.Z]+ crash: giving up at once/);
    // The user service ran as its image's USER, with the groups that list it (staff) and its HOME; the job sees its
    // process as uid 1000 too.
    assert.match(trace, /\[service:[^\]]*builder\] \S+ user: uid=1000\(builder\) gid=1000\(builder\) groups=50\(staff\) home=\/home\/builder in \/\x1b/);
    assert.match(trace, /\nhttpd 8081 uid: 1000\n/);
    assert.match(trace, /\[service:[^\]]*nobody\] \S+ as: 65534:65534\x1b/);
    // The image's WORKDIR, made as Docker makes it.
    assert.match(trace, /web: starting in \/srv\/web, listening in 3 s/);
  });

  it("a job in Tart's own root (no image:) reaches its service by the derived alias (its disk where the job image's would be), and goes on past one that never listens", async () => {
    const { registry, fake } = env;
    const job = fake.enqueueJob({
      project: 'acme/widget',
      image: null,
      services: [
        `${registry.host}/library/redis:7`,
        // Runs, but never listens on its port: the wait runs out (wait_for_services_timeout).
        { name: `${registry.host}/tools/web:1`, alias: 'sleeper', command: ['sleep', '600'], variables: { HEALTHCHECK_TCP_PORT: '82' } },
      ],
      script: ['exec 3<>/dev/tcp/127.0.0.1__library__redis/6379; printf "PING\\r\\n" >&3; read -r reply <&3; echo "REDIS:${reply%$\'\\r\'}"', 'grep -c library__redis /etc/hosts'],
    });
    const done = await fake.waitForJob(job.id, (j) => FINAL.includes(j.state), WAIT_MS);
    const trace = done.trace.toString();
    assert.equal(done.state, 'success', trace);
    assert.match(trace, /\nREDIS:\+PONG\n/);
    const name = `job${job.id}-127\\.0\\.0\\.1__tools__web-1`;
    assert.match(
      trace,
      new RegExp(
        `Service ${name} probably didn't start properly\\.\\n\\nHealth check error:\\nservice "${name}-wait-for-service" timeout\\n\\n` +
          'Health check container logs:\\nwaiting for TCP connection to 127\\.0\\.0\\.1:82\\.\\.\\.\\n\\n\\n' +
          // Each line after its time, as `docker logs --timestamps` gives it to gitlab-runner.
          'Service container logs:\\n\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z web: starting in /srv/web, listening in 3 s\\n',
      ),
    );
    assert.doesNotMatch(trace, /Service job\d+-127\.0\.0\.1__library__redis-0 probably/);
  });

  it('allowed_services refuses a service before any service image is pulled, with gitlab-runner\'s lines', async () => {
    const { registry, fake } = env;
    const before = (await registry.blobGets()).length;
    const job = fake.enqueueJob({
      project: 'acme/widget',
      image: `${registry.host}/tools/busybox:1.0`,
      services: [`${registry.host}/tools/web:1`, 'docker.io/library/evil:1'],
      script: ['echo never'],
    });
    const done = await fake.waitForJob(job.id, (j) => FINAL.includes(j.state), WAIT_MS);
    const trace = done.trace.toString();
    assert.equal(done.state, 'failed', trace);
    assert.equal(done.failureReason, 'runner_system_failure');
    assert.match(trace, /ERROR: The "docker\.io\/library\/evil:1" image is not present on list of allowed services:\x1b\[0;m\n\x1b\[0K- 127\.0\.0\.1:\d+\/\*\*\x1b\[0;m\n/);
    assert.doesNotMatch(trace, /Starting service/);
    assert.doesNotMatch(trace, /\nnever\n/);
    assert.equal((await registry.blobGets()).length, before, 'no layer downloaded');
  });
});

describe("[[runners.docker.services]]: the runner's services beside the job's", () => {
  let env: ImageDaemonEnv;

  before(async () => {
    env = await startImageDaemonEnv({
      name: 'config-services',
      runnerToken: 'glrt-config_services_e2e_01',
      readme: '# widget with config services\n',
      push: async (registry) => {
        pushTestImage(await testImageLayout('busybox'), registry.host, 'tools/busybox', '1.0');
        pushTestImage(await testImageLayout('busybox-web'), registry.host, 'tools/web', '1');
      },
      // Only the runner's own service image would pass allowed_services; the job names it too.
      allowedServices: () => ['nothing/**'],
      vmLines: (registry) => [
        'wait_for_services_timeout = 12',
        '[[runners.docker.services]]',
        `  name = "${registry.host}/tools/web:1"`,
        '  alias = "configured"',
        '  command = ["httpd", "-f", "-p", "8080", "-h", "/www"]',
        '  environment = ["WEB_GREETING=from-the-runner-config", "HEALTHCHECK_TCP_PORT=8080"]',
      ],
    });
  });

  after(async () => {
    await env?.cleanup();
  });

  it("starts the config's service before the job's, with its command and environment, and allows it whatever allowed_services says", async () => {
    const { registry, fake } = env;
    const job = fake.enqueueJob({
      project: 'acme/widget',
      image: `${registry.host}/tools/busybox:1.0`,
      services: [{ name: `${registry.host}/tools/web:1`, alias: 'web' }],
      script: ['wget -qO- http://configured:8080/', 'wget -qO- http://web/'],
    });
    const done = await fake.waitForJob(job.id, (j) => FINAL.includes(j.state), WAIT_MS);
    const trace = done.trace.toString();
    assert.equal(done.state, 'success', trace);
    // The config's service is services[0]: the job's, of the same image, loses the derived aliases to it.
    assert.match(trace, /Skipping alias "127\.0\.0\.1__tools__web" for service ".*\/tools\/web:1" \(services\[1\]\): alias is already in use by another service\./);
    assert.match(trace, /\nweb says: from-the-runner-config\n/);
    assert.match(trace, /\nweb says: \n/);
  });
});
