import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options?: { type?: 'minor' | 'major' }) => void;
let gc: Gc | undefined;

/** V8's collector, taken once from a new context (the flag exposes it there, not in ours). */
function collector(): Gc {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as Gc;
  }
  return gc;
}

/**
 * Bounds the garbage a long streamed body leaves behind (docs/decisions/0041-client-memory.md).
 * Every socket read is a fresh 64 KiB buffer that is garbage as soon as its bytes are written out,
 * but V8 frees it only when it collects, and it waits for ~32 MiB of such buffers before it does:
 * `kastat3 -d` streaming a million rows peaked at 100 MiB, 32 MiB of it dead buffers. A young-
 * generation collection after every `everyBytes` read (~0.4 ms each, ~20 for a million rows) frees
 * them while they are young: 73 MiB.
 */
export class GarbageCadence {
  #since = 0;

  constructor(
    private readonly everyBytes: number = 8 * 1024 * 1024,
    private readonly collect: () => void = () => collector()({ type: 'minor' }),
  ) {}

  /** Counts `n` bytes read; collects the young generation when `everyBytes` were read since the last. */
  read(n: number): void {
    this.#since += n;
    if (this.#since < this.everyBytes) return;
    this.#since = 0;
    this.collect();
  }
}
