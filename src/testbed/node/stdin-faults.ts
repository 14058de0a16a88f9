import { Transform, type TransformCallback } from 'node:stream';

/** Offset inside each 512-byte block that gets flipped: a tar header's checksum field. */
const FLIP_OFFSET = 148;

/**
 * Applies the write faults of one command to the bytes it receives: `corrupt` flips one byte in
 * every 512 (tar headers then fail their checksum, compressed streams their CRC), and
 * `dropAfter` calls `onDrop` (which cuts the connection) once that many bytes went through.
 */
export function stdinFaults(opts: {
  corrupt: boolean;
  dropAfter?: number | undefined;
  onDrop: () => void;
}): Transform {
  let seen = 0;
  let dropped = false;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (dropped) return cb();
      let out = chunk;
      if (opts.dropAfter !== undefined && seen + chunk.length >= opts.dropAfter) {
        out = chunk.subarray(0, Math.max(0, opts.dropAfter - seen));
        dropped = true;
      }
      if (opts.corrupt) {
        out = Buffer.from(out);
        for (let i = 0; i < out.length; i++)
          if ((seen + i) % 512 === FLIP_OFFSET) out[i] = (out[i] as number) ^ 0xff;
      }
      seen += out.length;
      if (dropped) {
        if (out.length > 0) this.push(out);
        setImmediate(opts.onDrop);
        return cb();
      }
      cb(null, out);
    },
  });
}
