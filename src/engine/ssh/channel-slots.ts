/**
 * A counting semaphore for the channels of one connection: OpenSSH refuses sessions beyond
 * MaxSessions (default 10), so execs beyond the bound wait here instead of failing. Waiters leave
 * the queue when their signal aborts or when the connection goes away (`fail`).
 */
export class ChannelSlots {
  private used = 0;
  private readonly waiters: { grant: () => void; reject: (e: unknown) => void }[] = [];

  constructor(private readonly max: number) {}

  get inUse(): number {
    return this.used;
  }

  acquire(signal: AbortSignal | undefined, onAbort: () => unknown): Promise<void> {
    if (this.used < this.max) {
      this.used++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', abort);
          resolve();
        },
        reject: (e: unknown) => {
          signal?.removeEventListener('abort', abort);
          reject(e);
        },
      };
      const abort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(onAbort());
      };
      signal?.addEventListener('abort', abort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(): void {
    const next = this.waiters.shift();
    // The slot passes straight to the next waiter: `used` stays the same.
    if (next) next.grant();
    else this.used--;
  }

  /** Rejects every waiter (the connection is gone); they retry on a fresh connection or fail. */
  fail(e: unknown): void {
    for (const w of this.waiters.splice(0)) w.reject(e);
  }
}
