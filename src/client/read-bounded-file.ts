import { constants, type Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { KaployError } from '../common/errors.js';

/**
 * The one way the commands read a file the user names (-f node files, -k keys, -a descriptions,
 * PXE profiles): only a regular file, at most `limit` bytes, and interruptible. A FIFO would block
 * open() (and with it Ctrl-C) for as long as nobody writes to it; /dev/zero would grow without
 * end; a 100 MB key file would be read whole before being refused. `-` reads standard input with
 * the same bound.
 */
export interface BoundedReadOptions {
  /** Largest accepted size in bytes; one byte more is refused without reading further. */
  limit: number;
  /** What the file is, for messages: 'node file', 'key file', 'description file'. */
  what: string;
  signal?: AbortSignal | undefined;
  /** Where `-` reads from (standard input by default). */
  stdin?: Readable;
}

const CHUNK = 64 * 1024;

const fileError = (file: string, message: string) => new KaployError('KAPLOY_FILE', message, { file });

/** "a FIFO", "a character device"...: what a non-regular file is, for the message. */
export function fileKind(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isDirectory()) return 'a directory';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

const tooLarge = (file: string, o: BoundedReadOptions) =>
  fileError(file, `the ${o.what} ${file} is larger than ${o.limit.toLocaleString('en')} bytes: refused`);

export async function readBoundedFile(file: string, o: BoundedReadOptions): Promise<string> {
  o.signal?.throwIfAborted();
  if (file === '-') return readBoundedStream(o.stdin ?? process.stdin, '<stdin>', o);
  const refuse = (st: Stats) => {
    if (!st.isFile()) throw fileError(file, `the ${o.what} ${file} is ${fileKind(st)}, not a regular file`);
    if (st.size > o.limit) throw tooLarge(file, o);
  };
  try {
    // Checked before open(): opening a FIFO without O_NONBLOCK blocks until a writer comes.
    refuse(await stat(file));
  } catch (e) {
    if (e instanceof KaployError) throw e;
    throw fileError(file, `cannot read the ${o.what} ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  // O_NONBLOCK too: the path may have become a FIFO since stat; fstat then refuses it.
  const fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY).catch((e) => {
    throw fileError(file, `cannot read the ${o.what} ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  });
  try {
    refuse(await fh.stat());
    const chunks: Buffer[] = [];
    let total = 0;
    // The size seen by fstat may grow while reading (or be 0 for /proc files): bounded by bytes read.
    for (;;) {
      o.signal?.throwIfAborted();
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, o.limit + 1 - total));
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      chunks.push(buf.subarray(0, bytesRead));
      total += bytesRead;
      if (total > o.limit) throw tooLarge(file, o);
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** A stream (standard input) read up to `limit` bytes; stops reading at limit+1 and on abort. */
async function readBoundedStream(stream: Readable, name: string, o: BoundedReadOptions): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  const onAbort = () => stream.destroy();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of stream) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      chunks.push(b);
      total += b.length;
      if (total > o.limit) throw tooLarge(name, o);
    }
  } catch (e) {
    o.signal?.throwIfAborted();
    if (e instanceof KaployError) throw e;
    throw fileError(name, `cannot read the ${o.what} ${name}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
  o.signal?.throwIfAborted();
  return Buffer.concat(chunks, total).toString('utf8');
}
