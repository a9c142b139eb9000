// Process signals for `tart run`/`run-single` (protocol reference §8.7): SIGQUIT stops
// gracefully; SIGINT/SIGTERM stop forcefully; a second SIGINT/SIGTERM exits at once.
import type { Logger } from '../log/logger.js';

export interface StoppableDaemon {
  stopGracefully(): void;
  stopForcefully(): void;
}

export interface SignalSource {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
  off(signal: NodeJS.Signals, listener: () => void): unknown;
}

/**
 * Wires signals to the daemon. Graceful and forceful stops are both bounded by
 * `shutdownTimeoutMs`: a graceful stop that overruns turns forceful, and a forceful stop that
 * overruns calls `exit`. Returns a function that removes the handlers.
 */
export function handleStopSignals(options: {
  daemon: StoppableDaemon;
  shutdownTimeoutMs: number;
  logger: Logger;
  exit: (code: number) => void;
  source?: SignalSource;
}): () => void {
  const source = options.source ?? process;
  let forceful = false;
  const timers: NodeJS.Timeout[] = [];
  const bound = (ms: number, action: () => void) => {
    const timer = setTimeout(action, ms);
    timer.unref();
    timers.push(timer);
  };
  const forcefulStop = () => {
    if (forceful) {
      options.logger.warn('second stop signal: exiting now');
      options.exit(1);
      return;
    }
    forceful = true;
    options.daemon.stopForcefully();
    bound(options.shutdownTimeoutMs, () => {
      options.logger.error('shutdown timeout exceeded: exiting with jobs still running');
      options.exit(1);
    });
  };
  const gracefulStop = () => {
    options.daemon.stopGracefully();
    bound(options.shutdownTimeoutMs, () => {
      if (forceful) return;
      options.logger.warn('graceful shutdown timeout exceeded: canceling running jobs');
      forcefulStop();
    });
  };
  source.on('SIGQUIT', gracefulStop);
  source.on('SIGINT', forcefulStop);
  source.on('SIGTERM', forcefulStop);
  return () => {
    source.off('SIGQUIT', gracefulStop);
    source.off('SIGINT', forcefulStop);
    source.off('SIGTERM', forcefulStop);
    for (const timer of timers) clearTimeout(timer);
  };
}
