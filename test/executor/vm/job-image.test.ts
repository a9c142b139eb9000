import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sharedVolumesOf } from '../../../src/executor/vm/job-image.js';

describe("the runner's volumes in a job's roots", () => {
  it('keeps container paths and skips host binds and paths that are not plain, each with a trace warning', () => {
    assert.deepEqual(sharedVolumesOf(['/certs/client', '/cache', '/var/run/docker.sock:/var/run/docker.sock', '/srv/data:/data:ro', 'relative', '/a/../b']), {
      paths: ['/certs/client', '/cache'],
      warnings: [
        'WARNING: volume "/var/run/docker.sock:/var/run/docker.sock" skipped: a host bind cannot reach the job\'s microVM',
        'WARNING: volume "/srv/data:/data:ro" skipped: a host bind cannot reach the job\'s microVM',
        'WARNING: volume "relative" skipped: not a plain absolute path',
        'WARNING: volume "/a/../b" skipped: not a plain absolute path',
      ],
    });
  });
});
