// One command in a job environment or guest: what to run, its streams, and how it ended. The
// contract of JobEnvironment.exec and GuestChannel.exec (data only).
import type { Readable, Writable } from 'node:stream';

export interface ExecOptions {
  /** argv; the first element is looked up on PATH inside the environment. */
  command: string[];
  /** Bytes fed to the command's stdin, then EOF. Absent: stdin is empty. */
  stdin?: Readable | string | Buffer;
  stdout?: Writable;
  stderr?: Writable;
  /** Extra environment variables for the command (added to the environment's base env). */
  env?: Record<string, string>;
  /** Working directory inside the environment. */
  cwd?: string;
  /** Aborting kills the command (whole process tree) and makes exec reject with signal.reason. */
  signal?: AbortSignal;
}

export interface ExecResult {
  /** The command's exit status; 128+N when it was killed by signal N. */
  exitCode: number;
}
