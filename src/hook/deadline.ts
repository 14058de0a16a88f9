/**
 * A hook's time budget: OAR SIGKILLs a server hook at SERVER_PROLOGUE_EPILOGUE_TIMEOUT and then
 * stops all queues, so every step takes the smaller of its own bound and what is left.
 */
export class Deadline {
  readonly signal: AbortSignal;
  readonly #end: number;
  readonly #now: () => number;

  constructor(totalMs: number, parent?: AbortSignal, now: () => number = Date.now) {
    this.#now = now;
    this.#end = now() + totalMs;
    const timeout = AbortSignal.timeout(totalMs);
    this.signal = parent ? AbortSignal.any([parent, timeout]) : timeout;
  }

  remainingMs(): number {
    return Math.max(0, this.#end - this.#now());
  }

  /** min(ms, what is left minus a reserve kept for the steps that must still run). */
  bound(ms: number, reserveMs = 0): number {
    return Math.max(0, Math.min(ms, this.remainingMs() - reserveMs));
  }
}

/** Resolves after ms, or rejects when the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Retry delays inside one hook run: quick, since the whole run has seconds. */
function hookRetryDelayMs(attempt: number): number {
  return Math.min(250 * 2 ** Math.max(0, attempt - 1), 2_000);
}

/**
 * Calls fn until it succeeds, `retryable(e)` is false, or `budgetMs` would be exceeded;
 * throws the last error.
 */
export async function retryWithin<T>(
  fn: (attempt: number) => Promise<T>,
  opts: { budgetMs: number; signal: AbortSignal; retryable: (e: unknown) => boolean; now?: () => number },
): Promise<T> {
  const now = opts.now ?? Date.now;
  const end = now() + opts.budgetMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      const delay = hookRetryDelayMs(attempt);
      if (opts.signal.aborted || !opts.retryable(e) || now() + delay >= end) throw e;
      await sleep(delay, opts.signal);
    }
  }
}
