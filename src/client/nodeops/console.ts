import type { Readable } from 'node:stream';
import type { ConsoleView } from '../../api/console-view.js';
import type { ApiClient } from '../http-client.js';
import { createEscapeFilter, ESCAPE_HINT } from './escape-filter.js';

export interface ConsoleIo {
  input: Readable;
  output: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/** How a session ended: the user left (escape sequence, end of input, Ctrl-C) or the server closed it. */
export type ConsoleEnd = { by: 'user' } | { by: 'server' };

/**
 * kaconsole3 as a library: opens a console session on one node, relays the input (minus the escape
 * sequence) and the node's output until the user leaves or the server closes the session (rights
 * revoked, console command ended). Input chunks are posted one request at a time, in order.
 */
export async function runKaconsole(
  client: ApiClient,
  node: string,
  io: ConsoleIo,
  signal: AbortSignal,
): Promise<ConsoleEnd> {
  const session = await client.request<ConsoleView>('POST', '/console', { body: { node }, signal });
  const base = `/console/${session.wid}`;
  io.err.write(`[kaconsole3: console of ${node} (${session.wid}); ${ESCAPE_HINT}]\r\n`);
  const stream = await client.stream('GET', `${base}/stream`, { bodyTimeoutMs: 0 });
  let leaving = false;
  const leave = () => {
    if (leaving) return;
    leaving = true;
    void client.request('DELETE', base).catch(() => undefined);
  };

  let queue: Buffer[] = [];
  let sending = false;
  const pump = async () => {
    if (sending) return;
    sending = true;
    while (queue.length > 0 && !leaving) {
      const data = Buffer.concat(queue);
      queue = [];
      await client
        .request('POST', `${base}/input`, { body: { data: data.toString('base64') } })
        .catch(() => undefined); // a closed session answers an error; its stream says why
    }
    sending = false;
  };
  const filter = createEscapeFilter();
  const onData = (d: Buffer | string) => {
    const { send, leave: bye } = filter(typeof d === 'string' ? Buffer.from(d) : d);
    if (send.length > 0) {
      queue.push(send);
      void pump();
    }
    if (bye) void pump().finally(leave);
  };
  const onEnd = () => void pump().finally(leave);
  io.input.on('data', onData);
  io.input.once('end', onEnd);
  signal.addEventListener('abort', leave, { once: true });
  try {
    for await (const chunk of stream) io.output.write(chunk as Buffer);
  } catch {
    // The connection to the server broke: nothing more will come.
  } finally {
    io.input.off('data', onData);
    io.input.off('end', onEnd);
    signal.removeEventListener('abort', leave);
  }
  io.err.write(`[kaconsole3: connection to ${node} closed]\r\n`);
  return leaving ? { by: 'user' } : { by: 'server' };
}
