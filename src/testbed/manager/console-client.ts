import http from 'node:http';
import type { Duplex, Readable, Writable } from 'node:stream';
import { KaployError } from '../../common/errors.js';
import { assertHostname } from '../../formats/node-names.js';
import { CONSOLE_PROTOCOL } from './console-server.js';
import { controlAuth } from './control-client.js';
import { runningState } from './status.js';

export const CONSOLE_ESCAPE_HINT = '[kaploy console: type ~. at the start of a line to close]';

/** Opens the node's console stream (an HTTP upgrade on the daemon's control port). */
function openConsoleStream(dir: string, node: string, signal?: AbortSignal): Promise<Duplex> {
  const s = runningState(dir);
  const name = assertHostname(node);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port: s.bmcPort,
      path: `/nodes/${encodeURIComponent(name)}/console`,
      headers: { Connection: 'Upgrade', Upgrade: CONSOLE_PROTOCOL, ...controlAuth(s) },
      ...(signal ? { signal } : {}),
    });
    req.once('upgrade', (_res, socket, head) => {
      if (head.length) socket.unshift(head);
      resolve(socket);
    });
    req.once('response', (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        body += d;
      });
      res.once('end', () =>
        reject(
          new KaployError(
            res.statusCode === 404 ? 'KAPLOY_NOT_FOUND' : 'KAPLOY_NODE_LIST',
            `console of ${name}: ${body.trim()}`,
            { node: name },
          ),
        ),
      );
    });
    req.once('error', (e) =>
      reject(
        new KaployError('KAPLOY_NOT_FOUND', `console of ${name}: ${e.message}`, { node: name, cause: e }),
      ),
    );
    req.end();
  });
}

/**
 * Watches typed input for `~.` at the start of a line (ssh's escape): returns the bytes to send
 * and whether the user asked to close.
 */
export function escapeFilter(): (chunk: Buffer) => { send: Buffer; close: boolean } {
  let atLineStart = true;
  let pendingTilde = false;
  return (chunk) => {
    const out: number[] = [];
    for (const b of chunk) {
      if (pendingTilde) {
        pendingTilde = false;
        if (b === 0x2e) return { send: Buffer.from(out), close: true }; // '.'
        out.push(0x7e);
        if (b === 0x7e) {
          atLineStart = false;
          continue; // '~~' sends one '~'
        }
      } else if (atLineStart && b === 0x7e) {
        pendingTilde = true;
        continue;
      }
      out.push(b);
      atLineStart = b === 0x0d || b === 0x0a;
    }
    return { send: Buffer.from(out), close: false };
  };
}

/** `kaploy testbed console`: connects input/output to the node's serial console until `~.` or EOF. */
export async function runConsole(
  dir: string,
  node: string,
  io: { input: Readable; output: Writable; signal?: AbortSignal },
): Promise<void> {
  const sock = await openConsoleStream(dir, node, io.signal);
  const filter = escapeFilter();
  await new Promise<void>((resolve) => {
    const finish = () => {
      io.input.off('data', onData);
      io.input.off('end', finish);
      io.signal?.removeEventListener('abort', finish);
      sock.destroy();
      resolve();
    };
    const onData = (d: Buffer | string) => {
      const { send, close } = filter(typeof d === 'string' ? Buffer.from(d) : d);
      if (send.length) sock.write(send);
      if (close) finish();
    };
    io.input.on('data', onData);
    io.input.once('end', finish);
    io.signal?.addEventListener('abort', finish, { once: true });
    sock.on('data', (d: Buffer) => io.output.write(d));
    sock.once('close', finish);
    sock.once('error', finish);
  });
}
