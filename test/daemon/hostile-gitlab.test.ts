// A GitLab that redirects an artifact upload to another origin: the job token never goes there.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FakeGitLab } from '../support/fake-gitlab/index.js';
import { startWidgetDaemon } from './daemon-harness.js';

const TOKEN = 'glrt-hostile_gitlab_token1';

describe('a GitLab redirecting an artifact upload elsewhere', () => {
  let fake: FakeGitLab;
  let cleanup: () => Promise<void>;
  const stolen: IncomingHttpHeaders[] = [];
  const thief = createServer((request, response) => {
    stolen.push(request.headers);
    request.resume();
    response.writeHead(201).end('201');
  });

  before(async () => {
    thief.listen(0, '127.0.0.1');
    await once(thief, 'listening');
    ({ fake, cleanup } = await startWidgetDaemon({ token: TOKEN, files: { 'README.md': 'hi\n' } }));
  });

  after(async () => {
    await cleanup();
    thief.close();
  });

  it('fails the upload once, with a clear reason, and sends nothing to the other origin', async () => {
    const port = (thief.address() as AddressInfo).port;
    fake.injectFault({
      endpoint: 'artifacts-upload',
      kind: 'status',
      status: 307,
      headers: { Location: `http://127.0.0.1:${port}/api/v4/jobs/1/artifacts` },
      count: 5,
    });
    const job = fake.enqueueJob({
      project: 'acme/widget',
      script: ['mkdir -p out', 'echo data > out/file.txt'],
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
      ],
    });
    const done = await fake.waitForJob(job.id, (j) => j.state === 'success' || j.state === 'failed', 60_000);
    const trace = done.trace.toString();
    assert.equal(done.state, 'failed', trace);
    assert.match(trace, /another origin than http:\/\/127\.0\.0\.1:\d+; the job token is never sent there/);
    assert.deepEqual(stolen, [], 'the other origin got no request');
    const uploads = fake.requests.filter((request) => request.endpoint === 'artifacts-upload');
    assert.equal(uploads.length, 1, 'a refused redirect is not retried');
    assert.deepEqual(fake.violations, []);
  });
});
