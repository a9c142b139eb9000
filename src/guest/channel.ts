// How the host runs commands inside a guest. SSH (guest/ssh/) is one implementation; an agent over
// vsock or virtio-serial would be another. The VM executor and its provider see only this.
import type { ExecOptions, ExecResult } from '../model/exec.js';

export interface GuestChannel {
  /**
   * Runs one command to completion with stdin/stdout/stderr (ExecOptions semantics: output streams
   * are never ended). Aborting `options.signal` kills the command's whole process tree.
   */
  exec(options: ExecOptions): Promise<ExecResult>;
  /** Ends the channel. Idempotent; never throws. */
  close(): void;
}
