import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { KaployError } from '../../common/errors.js';
import type { VirtualNode } from '../node/index.js';
import { bearerMatches } from './control-auth.js';

export const CONSOLE_PROTOCOL = 'kaploy-console';
const CONSOLE_PATH = /^\/nodes\/([^/?]+)\/console(?:\?.*)?$/;

/**
 * Serial consoles over HTTP upgrade on the control API's port: `GET /nodes/NODE/console` with
 * `Upgrade: kaploy-console` turns the connection into the node's raw console stream, so one port
 * serves every node's console (a terminal server's job on a real site).
 */
export function attachConsoleUpgrade(
  app: FastifyInstance,
  token: string,
  lookup: (name: string) => VirtualNode | KaployError,
): void {
  app.server.on('upgrade', (req, socket: Duplex) => {
    const refuse = (status: string, msg: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${msg}\n`);
    };
    // An upgrade skips fastify's hooks: the token is checked here.
    if (!bearerMatches(req.headers.authorization, token))
      return refuse('401 Unauthorized', 'the control API needs its bearer token');
    const m = CONSOLE_PATH.exec(req.url ?? '');
    if (!m || req.headers.upgrade?.toLowerCase() !== CONSOLE_PROTOCOL)
      return refuse('404 Not Found', 'no such console');
    const node = lookup(decodeURIComponent(m[1] ?? ''));
    if (!('openConsole' in node))
      return refuse(node.code === 'KAPLOY_NOT_FOUND' ? '404 Not Found' : '400 Bad Request', node.message);
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${CONSOLE_PROTOCOL}\r\nConnection: Upgrade\r\n\r\n`,
    );
    const con = node.openConsole();
    socket.pipe(con);
    con.pipe(socket);
    const close = () => {
      socket.destroy();
      con.destroy();
    };
    socket.once('close', close);
    socket.once('error', close);
    con.once('close', close);
    con.once('error', close);
  });
}
