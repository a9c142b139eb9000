// An unbuffered channel: `offer` waits until a taker is ready, like gitlab-runner's feeder
// channel, so each [[runners]] entry is handed to one free worker at a time.

export class Rendezvous<T> {
  private readonly takers: Array<(value: T) => void> = [];
  private readonly offers: Array<{ value: T; taken: () => void }> = [];

  /** Resolves when a worker took `value`; rejects when `signal` aborts first. */
  offer(value: T, signal?: AbortSignal): Promise<void> {
    const taker = this.takers.shift();
    if (taker) {
      taker(value);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const entry = { value, taken: () => { signal?.removeEventListener('abort', onAbort); resolve(); } };
      const onAbort = () => {
        const index = this.offers.indexOf(entry);
        if (index >= 0) this.offers.splice(index, 1);
        reject(signal?.reason);
      };
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.offers.push(entry);
    });
  }

  /** Hands `value` to a waiting worker if there is one; never waits. */
  tryOffer(value: T): boolean {
    const taker = this.takers.shift();
    if (!taker) return false;
    taker(value);
    return true;
  }

  /** Waits for the next offered value; rejects when `signal` aborts first. */
  take(signal?: AbortSignal): Promise<T> {
    const offer = this.offers.shift();
    if (offer) {
      offer.taken();
      return Promise.resolve(offer.value);
    }
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const taker = (value: T) => { signal?.removeEventListener('abort', onAbort); resolve(value); };
      const onAbort = () => {
        const index = this.takers.indexOf(taker);
        if (index >= 0) this.takers.splice(index, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.takers.push(taker);
    });
  }
}
