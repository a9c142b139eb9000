// A real S3-compatible server on loopback for the shared-cache tests: @20minutes/s3rver (a
// maintained s3rver that checks SigV4 signatures against the account's secret) behind a plain
// http server that records each request's method, path and Authorization header. Its data dir is
// private and removed on close().
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from '@20minutes/s3rver';
import account from '@20minutes/s3rver/lib/models/account.js';

export interface RecordedS3Request {
  method: string;
  path: string;
  authorization?: string;
  headers: Record<string, string | string[] | undefined>;
  status?: number;
}

export interface TestS3Server {
  /** `127.0.0.1:PORT`, as ServerAddress takes it. */
  address: string;
  /** `http://127.0.0.1:PORT`. */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  /** Every request so far, in order. */
  requests: RecordedS3Request[];
  /** Where s3rver keeps buckets and objects. */
  dir: string;
  /** Creates an empty bucket (through s3rver's own provisioning: its SigV4 check mishandles the
   * trailing slash of a CreateBucket request). */
  createBucket(name: string): Promise<void>;
  close(): Promise<void>;
}

/** Starts the server with one access key pair; buckets are the test's to create. */
export async function startS3Server(options: {
  accessKey: string;
  secretKey: string;
}): Promise<TestS3Server> {
  const dir = await mkdtemp(join(tmpdir(), 'tart-s3-'));
  account.DUMMY_ACCOUNT.createKeyPair(options.accessKey, options.secretKey);
  const s3rver = new S3rver({ directory: dir, silent: true });
  const handle = s3rver.callback();
  const requests: RecordedS3Request[] = [];
  const server: Server = createServer((request, response) => {
    const recorded: RecordedS3Request = {
      method: request.method ?? '',
      path: request.url ?? '',
      authorization: request.headers.authorization,
      headers: { ...request.headers },
    };
    requests.push(recorded);
    response.on('finish', () => (recorded.status = response.statusCode));
    handle(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    endpoint: `http://127.0.0.1:${port}`,
    ...options,
    requests,
    dir,
    createBucket: async (name) => {
      await s3rver.store.putBucket(name);
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      account.DUMMY_ACCOUNT.revokeAccessKey(options.accessKey);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
