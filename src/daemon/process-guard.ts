// The last line of defence of `tart run`: an exception or rejection no code path handled is
// a bug in Tart. It is logged at error level with its stack and a request to report it, but
// it does not end the daemon: the jobs of other projects go on, and each job's
// own deadlines still bound whatever the bug left behind.
import type { Logger } from '../log/logger.js';

export interface GuardedProcess {
  on(event: 'uncaughtException' | 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  off(event: 'uncaughtException' | 'unhandledRejection', listener: (reason: unknown) => void): unknown;
}

/** Installs the guard; returns a function that removes it. */
export function guardProcess(options: {
  logger: Logger;
  target?: GuardedProcess;
}): () => void {
  const target = options.target ?? process;
  const report = (kind: string) => (reason: unknown) => {
    const stack = reason instanceof Error ? (reason.stack ?? reason.message) : String(reason);
    options.logger.error(`BUG: ${kind} (please report it to the Tart maintainers)`, {
      code: 'UNHANDLED_ERROR',
      stack,
    });
  };
  const onException = report('uncaught exception');
  const onRejection = report('unhandled promise rejection');
  target.on('uncaughtException', onException);
  target.on('unhandledRejection', onRejection);
  return () => {
    target.off('uncaughtException', onException);
    target.off('unhandledRejection', onRejection);
  };
}
