import { SshError } from './ssh-error.js';

/**
 * One signal for an exec that fires on the caller's abort or on the per-command timeout, and
 * remembers which, so every waiting point (connect, channel slot, running command) reacts the same
 * way and reports the right kind.
 */
export class Deadline {
  private readonly controller = new AbortController();
  private kind: 'timeout' | 'aborted' | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly onOuterAbort = () => this.fire('aborted');

  constructor(
    private readonly node: string,
    private readonly timeoutMs: number | undefined,
    private readonly outer: AbortSignal | undefined,
  ) {
    if (timeoutMs !== undefined) this.timer = setTimeout(() => this.fire('timeout'), timeoutMs);
    if (outer?.aborted) this.fire('aborted');
    else outer?.addEventListener('abort', this.onOuterAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  error(): SshError {
    if (this.kind === 'timeout') {
      return new SshError('timeout', this.node, `command timed out after ${this.timeoutMs} ms`);
    }
    return new SshError('aborted', this.node, 'command aborted', this.outer?.reason);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.onOuterAbort);
  }

  private fire(kind: 'timeout' | 'aborted'): void {
    if (this.kind !== undefined) return;
    this.kind = kind;
    clearTimeout(this.timer);
    this.controller.abort();
  }
}

/** Resolves with `p`, or rejects with the deadline's error as soon as it fires. */
export function raceDeadline<T>(p: Promise<T>, d: Deadline): Promise<T> {
  if (d.signal.aborted) return Promise.reject(d.error());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(d.error());
    d.signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        d.signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        d.signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
