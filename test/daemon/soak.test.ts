// Soak: 50 short jobs through one `tart run` (shell executor, concurrent = 4) while the fake
// GitLab answers 500s and resets connections at random (seeded). Every job ends once, with its
// whole trace and the right checksum, its archive and gzip report stored, and no upload tried
// more often than gitlab-runner would (3 tries). Bounded in time; loopback only.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import type { FaultSpec } from '../support/fake-gitlab/index.js';
import type { FakeGitLab } from '../support/fake-gitlab/index.js';
import { setUp, startTart } from './tart-process.js';

const JOBS = 50;
const UPLOAD_ATTEMPTS = 3;
const finished = (state: string) => state === 'success' || state === 'failed';

// A small deterministic generator, so a failing run can be replayed.
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function randomFaults(random: () => number): FaultSpec[] {
  const faults: FaultSpec[] = [];
  const endpoints = ['update', 'trace', 'artifacts-upload', 'request'] as const;
  for (let index = 0; index < 40; index++) {
    const endpoint = endpoints[Math.floor(random() * endpoints.length)] ?? 'trace';
    const reset = random() < 0.5;
    faults.push({
      endpoint,
      ...(reset
        ? { kind: 'drop' as const }
        : { kind: 'status' as const, status: 500, body: '{"message":"500 Internal Server Error"}' }),
      // Uploads are spread out, so that few meet a fault on all of their tries.
      after: endpoint === 'artifacts-upload' ? 2 + Math.floor(random() * 6) : Math.floor(random() * 4),
    });
  }
  return faults;
}

function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

describe('soak: 50 jobs, concurrent = 4, random 500s and resets', { timeout: 240_000 }, () => {
  let fake: FakeGitLab;
  let configPath: string;
  let cleanup: () => Promise<void>;

  before(async () => {
    ({ fake, configPath, cleanup } = await setUp({
      prefix: 'tart-soak-',
      global: ['concurrent = 4', 'check_interval = 1', 'shutdown_timeout = 10'],
      runners: ['soak'],
    }));
  });

  after(() => cleanup());

  it('every job ends exactly once, complete, with its artifacts; no upload exceeds 3 tries', async () => {
    const random = seeded(14);
    const jobs = Array.from({ length: JOBS }, (_, index) =>
      fake.enqueueJob({
        project: 'acme/widget',
        script: [
          `echo "soak marker ${index}"`,
          'mkdir -p out reports',
          `head -c ${1000 + index * 997} /dev/urandom > out/blob.bin`,
          `printf '<testsuites name="job-${index}"/>' > reports/junit.xml`,
          `seq 1 ${200 + index * 10}`,
        ],
        artifacts: [
          {
            name: 'out',
            paths: ['out/'],
            when: 'on_success',
            artifact_type: 'archive',
            artifact_format: 'zip',
            expire_in: '1 day',
            untracked: false,
          },
          {
            name: 'junit.xml',
            paths: ['reports/junit.xml'],
            when: 'always',
            artifact_type: 'junit',
            artifact_format: 'gzip',
            expire_in: '1 day',
            untracked: false,
          },
        ],
      }),
    );
    for (const fault of randomFaults(random)) fake.injectFault(fault);
    const started = Date.now();
    const daemon = startTart(configPath);
    let rss: number;
    try {
      for (const job of jobs) await fake.waitForJob(job.id, (j) => finished(j.state), 200_000);
      const minutes = (Date.now() - started) / 60_000;
      rss = peakRssMiB(daemon.process.pid ?? 0);
      console.log(
        `soak: ${JOBS} jobs in ${(minutes * 60).toFixed(1)} s = ${(JOBS / minutes).toFixed(0)} jobs/min; peak RSS ${rss.toFixed(0)} MiB`,
      );
    } finally {
      daemon.process.kill('SIGQUIT');
      await daemon.exitCode;
    }
    let failedByFaults = 0;
    for (const [index, queued] of jobs.entries()) {
      const job = fake.job(queued.id);
      const trace = job.trace.toString();
      assert.equal(job.checksumOk, true, `job ${queued.id} checksum`);
      assert.equal(job.bytesizeOk, true, `job ${queued.id} bytesize`);
      assert.equal(
        trace.match(new RegExp(`^soak marker ${index}$`, 'gm'))?.length,
        1,
        `job ${queued.id} ran once`,
      );
      assert.match(trace, new RegExp(`^${200 + index * 10}$`, 'm'), 'the output is complete');
      const finals = job.updates.filter((update) => finished(update.state) && update.status === 200);
      assert.ok(finals.length >= 1, 'the final update was accepted');
      assert.ok(
        finals.every((update) => update.state === job.state),
        `job ${queued.id} ended one way`,
      );
      const tries = new Map<string, Array<number | 'dropped'>>();
      for (const type of ['archive', 'junit']) {
        const answers = fake.requests
          .filter(
            (request) =>
              request.endpoint === 'artifacts-upload' &&
              request.path.startsWith(`/api/v4/jobs/${queued.id}/artifacts?`) &&
              request.path.includes(`artifact_type=${type}`),
          )
          .map((request) => request.status);
        assert.ok(
          answers.length <= UPLOAD_ATTEMPTS,
          `job ${queued.id} ${type}: ${answers.length} upload tries`,
        );
        tries.set(type, answers);
      }
      if (job.state === 'failed') {
        // Legitimate only when one upload met a fault on each of gitlab-runner's 3 tries.
        const exhausted = [...tries.values()].some(
          (answers) => answers.length === UPLOAD_ATTEMPTS && answers.every((status) => status !== 201),
        );
        assert.ok(exhausted, `job ${queued.id} failed without exhausting an upload: ${trace.slice(-1500)}`);
        assert.match(trace, /Job failed/);
        failedByFaults += 1;
        continue;
      }
      assert.equal(job.state, 'success', `job ${queued.id}: ${trace.slice(-1500)}`);
      assert.match(trace, /Job succeeded/);
      const archive = job.artifacts.get('archive');
      assert.ok(archive && archive.bytes.subarray(0, 2).toString() === 'PK', `job ${queued.id} archive`);
      const report = job.artifacts.get('junit');
      assert.equal(
        gunzipSync(report?.bytes ?? Buffer.alloc(0)).toString(),
        `<testsuites name="job-${index}"/>`,
      );
    }
    console.log(`soak: ${failedByFaults} job(s) failed after 3 faulty upload tries, as gitlab-runner would`);
    assert.ok(failedByFaults <= 5, `${failedByFaults} jobs lost to faults`);
    assert.ok(rss > 0 && rss < 512, `peak RSS ${rss} MiB`);
    assert.equal(fake.pendingFaults(), 0, 'every injected fault was hit');
    assert.deepEqual(fake.violations, []);
  });
});
