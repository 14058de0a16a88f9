import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/logger.js';
import { type RunningServer, startEngine } from '../../../src/engine/main.js';
import { makeSite, type TestSite } from '../helpers/site.js';

/**
 * Idle connections cannot take the engine: one address holds at most max_connections_per_address,
 * a connection that sends no request is closed after header_timeout, other addresses are served.
 */
let site: TestSite;
let server: RunningServer;
let port: number;
const PER_ADDRESS = 20;

beforeAll(async () => {
  site = makeSite({ users: ['alice'] });
  const config = {
    ...site.config,
    listen: { ...site.config.listen, maxConnectionsPerAddress: PER_ADDRESS, headerTimeoutMs: 1000 },
  };
  server = await startEngine(config, { port: 0, logger: silentLogger });
  port = Number(new URL(server.url).port);
});
afterAll(async () => {
  await server?.close();
  site?.cleanup();
});

/** An idle TCP connection from `from`, and a promise of its close. */
function idle(from = '127.0.0.1'): Promise<{ socket: Socket; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: from });
    const t0 = Date.now();
    const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now() - t0)));
    socket.once('error', () => undefined);
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

async function version(from: string): Promise<string> {
  const s = await idle(from);
  s.socket.write('GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  let text = '';
  s.socket.on('data', (d) => {
    text += String(d);
  });
  await s.closed;
  return text.split('\r\n')[0] ?? '';
}

describe('connection limits', () => {
  it('one address beyond its limit is closed at once; another address is still served', async () => {
    const held = await Promise.all(Array.from({ length: PER_ADDRESS }, () => idle()));
    const extra = await idle();
    // Closed by the engine right away, long before the headers timeout.
    expect(await extra.closed).toBeLessThan(500);
    // Answered (401: no token), where the limited address's connection got no answer at all.
    expect(await version('127.0.0.2')).toBe('HTTP/1.1 401 Unauthorized');
    for (const h of held) h.socket.destroy();
    await Promise.all(held.map((h) => h.closed));
    // The engine sees the closes a moment later.
    await new Promise((r) => setTimeout(r, 300));
  });

  it('a connection that sends nothing is closed after header_timeout, freeing its place', async () => {
    const held = await Promise.all(Array.from({ length: PER_ADDRESS }, () => idle()));
    const times = await Promise.all(held.map((h) => h.closed));
    // header_timeout is 1 s; Node checks every 250 ms.
    for (const t of times) {
      expect(t).toBeGreaterThanOrEqual(900);
      expect(t).toBeLessThan(5000);
    }
    expect(await version('127.0.0.1')).toBe('HTTP/1.1 401 Unauthorized');
  });

  it('refuses bad limits in the site configuration with the key', async () => {
    const { parseSiteConfig } = await import('../../../src/common/site-config.js');
    expect(() =>
      parseSiteConfig('site: s\nserver: {max_connections_per_address: 0}\nclusters: []\n', 'site.yaml'),
    ).toThrow(/max_connections_per_address/);
    expect(() =>
      parseSiteConfig('site: s\nserver: {header_timeout: forever}\nclusters: []\n', 'site.yaml'),
    ).toThrow(/header_timeout/);
  });
});
