import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Logger } from '../../common/logger.js';
import type { SiteConfig } from '../../common/site-config.js';
import type { ServerTls } from './tls.js';

/** The defaults of the site configuration's `server` section (site-config-schema.ts). */
const DEFAULTS = { maxConnections: 4096, maxConnectionsPerAddress: 256, headerTimeoutMs: 10_000 };
/** A refused address is logged at most this often, so a flood does not flood the log too. */
const LOG_EVERY_MS = 60_000;

/**
 * Bounds what clients can hold of the engine before they are authenticated: open connections in all
 * and per address (one host opening 20,000 idle connections took every file descriptor, and every
 * request was refused for a minute), and the time to send a request's headers, which also closes a
 * connection that sends nothing. Authenticated long requests (log long polls, uploads, event
 * streams) are not cut: only the headers are timed.
 */
export function limitedServerFactory(listen: SiteConfig['listen'], logger: Logger, tls?: ServerTls) {
  const max = listen.maxConnections ?? DEFAULTS.maxConnections;
  const perAddress = listen.maxConnectionsPerAddress ?? DEFAULTS.maxConnectionsPerAddress;
  const headerMs = listen.headerTimeoutMs ?? DEFAULTS.headerTimeoutMs;
  return (handler: (req: IncomingMessage, res: ServerResponse) => void): Server => {
    const options = {
      headersTimeout: headerMs,
      // Uploads and long polls are bounded by the routes themselves, not by one request timeout.
      requestTimeout: 0,
      // Node checks the headers timeout of idle connections on this period: a fraction of the
      // timeout, so a silent connection is closed within ~1.25 x header_timeout.
      connectionsCheckingInterval: Math.max(250, Math.floor(headerMs / 4)),
    };
    // HTTPS when the site configuration gives a certificate: the same limits apply, counted on the
    // TCP connection before its handshake (a flood of half-open handshakes is bounded too).
    const server: Server = tls
      ? createHttpsServer({ ...options, cert: tls.cert, key: tls.key }, handler)
      : createServer(options, handler);
    server.maxConnections = max;
    server.on('request', (req: IncomingMessage) => req.socket.setTimeout(0));
    const open = new Map<string, number>();
    const loggedAt = new Map<string, number>();
    server.on('connection', (socket: Socket) => {
      const addr = socket.remoteAddress ?? '?';
      const n = (open.get(addr) ?? 0) + 1;
      if (n > perAddress) {
        const now = Date.now();
        if ((loggedAt.get(addr) ?? 0) + LOG_EVERY_MS < now) {
          loggedAt.set(addr, now);
          logger.warn(
            { address: addr, limit: perAddress },
            'too many connections from one address: closing new ones',
          );
        }
        socket.destroy();
        return;
      }
      open.set(addr, n);
      // A connection that sends no request at all is closed after the headers deadline too (Node's
      // headersTimeout starts with the first byte); the first request lifts it, and keep-alive
      // idling between requests is bounded by keepAliveTimeout.
      socket.setTimeout(headerMs, () => socket.destroy());
      socket.once('close', () => {
        const left = (open.get(addr) ?? 1) - 1;
        if (left <= 0) open.delete(addr);
        else open.set(addr, left);
      });
    });
    return server;
  };
}
