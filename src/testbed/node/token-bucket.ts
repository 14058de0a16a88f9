import { type Readable, Transform, type TransformCallback } from 'node:stream';

/**
 * A token bucket in bytes per second (burst 64 KiB by default). Takers queue in FIFO order so
 * the channels sharing a node's NIC share its rate fairly.
 */
export class TokenBucket {
  readonly bytesPerSec: number;
  private readonly burst: number;
  private tokens: number;
  private last = performance.now();
  private queue: Promise<void> = Promise.resolve();

  constructor(bytesPerSec: number, burst = 65536) {
    if (!(bytesPerSec > 0) || !Number.isFinite(bytesPerSec))
      throw new RangeError(`rate must be a positive number of bytes/s, got ${bytesPerSec}`);
    this.bytesPerSec = bytesPerSec;
    this.burst = burst;
    this.tokens = burst;
  }

  /** Resolves once `n` bytes may pass. */
  take(n: number): Promise<void> {
    this.queue = this.queue.then(() => {
      const now = performance.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.bytesPerSec) / 1000);
      this.last = now;
      this.tokens -= n;
      if (this.tokens >= 0) return;
      const waitMs = (-this.tokens * 1000) / this.bytesPerSec;
      return new Promise<void>((resolve) => setTimeout(resolve, waitMs));
    });
    return this.queue;
  }
}

const PIECE = 16384;

/** A stream stage letting bytes through at the pace of every given bucket (none: no limit). */
export function throttle(buckets: readonly (TokenBucket | undefined)[]): Transform {
  const active = buckets.filter((b): b is TokenBucket => b !== undefined);
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (active.length === 0) return cb(null, chunk);
      void (async () => {
        for (let off = 0; off < chunk.length; off += PIECE) {
          const piece = chunk.subarray(off, off + PIECE);
          for (const b of active) await b.take(piece.length);
          if (this.destroyed) return;
          this.push(piece);
        }
        cb();
      })();
    },
  });
}

/**
 * `source` at the pace of every given bucket: piped through a throttle stage, or `source` itself
 * when no bucket is set (an unlimited NIC or disk), which saves a stream stage (and its per-chunk
 * work) on every command's stdio and every relay hop.
 */
export function paced<R extends Readable>(
  source: R,
  buckets: readonly (TokenBucket | undefined)[],
): R | Transform {
  return buckets.some((b) => b !== undefined) ? source.pipe(throttle(buckets)) : source;
}
