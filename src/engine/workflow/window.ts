import { KaployError } from '../../common/errors.js';

/**
 * At most `size` holders at once (reference §3: at most 50 nodes rebooted, 50 checked at once).
 * A waiter whose signal aborts leaves the queue and rejects with the signal's reason.
 */
export interface Window {
  readonly size: number;
  readonly active: number;
  readonly waiting: number;
  /** Resolves with a release function (idempotent) once a slot is free. */
  acquire(signal?: AbortSignal): Promise<() => void>;
  /** acquire, run, release (also on error). */
  run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

/** `onQueue(delta)`: told when waiters join (+1) or leave (-1) the queue (the engine's metrics). */
export function createWindow(size: number, onQueue?: (delta: number) => void): Window {
  if (!Number.isSafeInteger(size) || size < 1) {
    throw new KaployError('KAPLOY_CONFIG', `A window size must be a whole number >= 1, not ${size}`, {
      key: 'windows',
    });
  }
  let active = 0;
  const queue: { grant: () => void }[] = [];

  const releaser = (): (() => void) => {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = queue.shift();
      if (next) {
        onQueue?.(-1);
        next.grant();
      } else active--;
    };
  };

  const acquire = (signal?: AbortSignal): Promise<() => void> => {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (active < size) {
      active++;
      return Promise.resolve(releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        // The slot passes straight from the releasing holder to this waiter (active unchanged).
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(releaser());
        },
      };
      const onAbort = () => {
        const i = queue.indexOf(waiter);
        if (i >= 0) {
          queue.splice(i, 1);
          onQueue?.(-1);
        }
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
      onQueue?.(1);
    });
  };

  return {
    size,
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
    acquire,
    async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
      const release = await acquire(signal);
      try {
        return await fn();
      } finally {
        release();
      }
    },
  };
}
