// Process signals for `tart run`/`run-single` (protocol reference §8.7), all in one table:
// SIGQUIT stops gracefully; SIGINT/SIGTERM (and SIGXCPU/SIGPWR, which warn of a kill to come)
// stop forcefully, and a second one exits at once; SIGHUP reloads. Every other signal whose
// default action would end the process is logged and ignored, so nothing short of SIGKILL
// ends Tart without a final update for its running jobs. (Real-time signals cannot be caught
// by Node; nothing sends them to a daemon by accident.)
import type { Logger } from '../log/logger.js';

export interface StoppableDaemon {
  stopGracefully(): void;
  stopForcefully(): void;
}

export interface SignalSource {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
  off(signal: NodeJS.Signals, listener: () => void): unknown;
}

export type SignalAction = 'graceful-stop' | 'forceful-stop' | 'reload' | 'ignore';

/** What each signal does to the daemon. Signals not listed keep Node's default (none ends the process). */
export const SIGNAL_ACTIONS: Readonly<Partial<Record<NodeJS.Signals, SignalAction>>> = {
  SIGQUIT: 'graceful-stop',
  SIGINT: 'forceful-stop',
  SIGTERM: 'forceful-stop',
  SIGXCPU: 'forceful-stop',
  SIGPWR: 'forceful-stop',
  SIGHUP: 'reload',
  // SIGUSR1 would also open Node's inspector on 127.0.0.1:9229 for anyone who may signal Tart.
  SIGUSR1: 'ignore',
  SIGUSR2: 'ignore',
  SIGPIPE: 'ignore',
  SIGALRM: 'ignore',
  SIGVTALRM: 'ignore',
  SIGPROF: 'ignore',
  SIGIO: 'ignore',
  SIGSTKFLT: 'ignore',
  SIGXFSZ: 'ignore',
  SIGTRAP: 'ignore',
  SIGSYS: 'ignore',
  SIGABRT: 'ignore',
  // Sent by kill(2); a real fault of these kinds never reaches JavaScript.
  SIGBUS: 'ignore',
  SIGFPE: 'ignore',
  SIGSEGV: 'ignore',
  SIGILL: 'ignore',
};

/**
 * Wires signals to the daemon. Graceful and forceful stops are both bounded by
 * `shutdownTimeoutMs`: a graceful stop that overruns turns forceful, and a forceful stop that
 * overruns calls `exit`. Without `reload`, SIGHUP is logged and ignored. Returns a function
 * that removes the handlers.
 */
export function handleStopSignals(options: {
  daemon: StoppableDaemon;
  shutdownTimeoutMs: number;
  logger: Logger;
  exit: (code: number) => void;
  reload?: () => void;
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
  const listeners = new Map<NodeJS.Signals, () => void>();
  for (const [signal, action] of Object.entries(SIGNAL_ACTIONS) as Array<[NodeJS.Signals, SignalAction]>) {
    const ignore = () => options.logger.warn(`received ${signal}: ignored`, { signal });
    const listener = {
      'graceful-stop': gracefulStop,
      'forceful-stop': forcefulStop,
      reload: options.reload ?? ignore,
      ignore,
    }[action];
    listeners.set(signal, listener);
    source.on(signal, listener);
  }
  return () => {
    for (const [signal, listener] of listeners) source.off(signal, listener);
    for (const timer of timers) clearTimeout(timer);
  };
}
