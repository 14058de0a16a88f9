import { createReadStream } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';

const RETRY_MS = 20;

/**
 * Connects to a relay that is starting (refused until it listens), retrying until `deadlineMs`
 * or until `gaveUp()` says its command already ended. Resolves the connected socket.
 */
export async function connectRelay(
  host: string,
  port: number,
  deadlineMs: number,
  signal: AbortSignal,
  gaveUp: () => string | undefined,
): Promise<Socket> {
  for (;;) {
    const why = gaveUp();
    if (why !== undefined) throw new Error(why);
    try {
      return await connectOnce(host, port, signal);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (signal.aborted) throw e;
      if (code !== 'ECONNREFUSED' || Date.now() >= deadlineMs) {
        throw new Error(`cannot connect to the relay on ${host}:${port}: ${code ?? (e as Error).message}`);
      }
    }
    await sleep(RETRY_MS, undefined, { signal });
  }
}

function connectOnce(host: string, port: number, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    const onAbort = () => {
      s.destroy();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    s.once('connect', () => {
      signal.removeEventListener('abort', onAbort);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      s.destroy();
      reject(err);
    });
  });
}

/** Streams the image file once into a connected relay, then half-closes (EOF marks the end). */
export async function feedImage(
  imagePath: string,
  socket: Socket,
  signal: AbortSignal,
  sent?: (bytes: number) => void,
): Promise<number> {
  const src = createReadStream(imagePath);
  if (sent) src.on('data', (chunk) => sent(chunk.length));
  try {
    await pipeline(src, socket, { signal });
  } finally {
    socket.destroy();
  }
  return src.bytesRead;
}
