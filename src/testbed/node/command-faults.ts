import type { Readable, Transform } from 'node:stream';
import type { FaultBook } from './fault-book.js';
import { stdinFaults } from './stdin-faults.js';
import { TokenBucket, throttle } from './token-bucket.js';

/** The faults that fire for one command line (each consumes one use of a matching fault). */
export interface CommandFaults {
  powerLoss: boolean;
  hang: boolean;
  /** Drop the SSH connection after this many bytes of the command's input. */
  dropAfter: number | undefined;
  corrupt: boolean;
  slowDisk: TokenBucket | undefined;
}

export function commandFaults(book: FaultBook, command: string): CommandFaults {
  const t = { event: 'exec', command } as const;
  // power_loss and hang end everything: the other faults would never be observed.
  if (book.fire('power_loss', t))
    return { powerLoss: true, hang: false, dropAfter: undefined, corrupt: false, slowDisk: undefined };
  if (book.fire('hang', t))
    return { powerLoss: false, hang: true, dropAfter: undefined, corrupt: false, slowDisk: undefined };
  const drop = book.fire('drop_connection', t);
  const slow = book.fire('slow_disk', t);
  return {
    powerLoss: false,
    hang: false,
    dropAfter: drop ? (drop.afterBytes ?? 0) : undefined,
    corrupt: book.fire('corrupt_disk', t) !== undefined,
    slowDisk: slow ? new TokenBucket(slow.bytesPerSec) : undefined,
  };
}

/** The path of bytes from the wire to what the command writes: drop/corrupt faults, then the disk rate. */
export function diskWritePath(
  source: Readable,
  f: CommandFaults,
  diskBucket: TokenBucket | undefined,
  dropConnection: () => void,
): Readable {
  let s: Readable = source;
  if (f.corrupt || f.dropAfter !== undefined)
    s = s.pipe(stdinFaults({ corrupt: f.corrupt, dropAfter: f.dropAfter, onDrop: dropConnection }));
  if (diskBucket || f.slowDisk) s = s.pipe(throttle([diskBucket, f.slowDisk]) as Transform);
  return s;
}
