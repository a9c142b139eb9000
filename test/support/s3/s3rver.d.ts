// The parts of @20minutes/s3rver (no types of its own) the test S3 server uses.
declare module '@20minutes/s3rver' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export default class S3rver {
    constructor(options: { directory: string; silent?: boolean; allowMismatchedSignatures?: boolean });
    readonly store: { putBucket(name: string): Promise<unknown> };
    /** The Koa request handler, for a server of the caller's own. */
    callback(): (request: IncomingMessage, response: ServerResponse) => void;
  }
}

declare module '@20minutes/s3rver/lib/models/account.js' {
  interface Account {
    createKeyPair(accessKeyId: string, secretAccessKey: string): void;
    revokeAccessKey(accessKeyId: string): void;
  }
  const account: { DUMMY_ACCOUNT: Account };
  export default account;
}
