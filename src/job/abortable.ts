// Waiting under an AbortSignal without ever hanging a cancel.

export type Settlement<T> = { value: T } | { error: unknown } | { abandoned: true };

/** Waits `ms`; resolves false early when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Waits for `work`; once `signal` has aborted, waits at most `graceMs` more and then gives up
 * ({ abandoned }). Work that is meant to stop on the signal normally settles well within it.
 */
export async function settleWithin<T>(
  work: Promise<T>,
  signal: AbortSignal,
  graceMs: number,
): Promise<Settlement<T>> {
  const settled = work.then(
    (value): Settlement<T> => ({ value }),
    (error: unknown): Settlement<T> => ({ error }),
  );
  let timer: NodeJS.Timeout | undefined;
  let giveUp: (settlement: Settlement<T>) => void = () => undefined;
  const gaveUp = new Promise<Settlement<T>>((resolve) => (giveUp = resolve));
  const startGrace = (): void => {
    timer = setTimeout(() => giveUp({ abandoned: true }), graceMs);
  };
  if (signal.aborted) startGrace();
  else signal.addEventListener('abort', startGrace, { once: true });
  try {
    return await Promise.race([settled, gaveUp]);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', startGrace);
  }
}

/** A one-line message for any thrown value. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
