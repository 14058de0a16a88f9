import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { follow } from '../../../src/client/deploy/follow.js';
import { ApiClient, ServerUnreachableError } from '../../../src/client/http-client.js';

/**
 * kadeploy3 following a deployment whose engine restarts (a scripted HTTP server, not an engine):
 * the connection breaks in the middle of a long poll, nothing listens for a while, then the
 * engine is back with the operation under the same id; the client follows it on, within its
 * server_timeout, and gives up once that passed.
 */
const WID = 'D-00000000-0000-4000-8000-000000000001';
const servers = new Set<Server>();

afterEach(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  servers.clear();
});

type Handler = (path: string, from: number, res: import('node:http').ServerResponse) => void;

function listen(handler: Handler, port = 0): Promise<number> {
  const s = createServer((req, res) => {
    req.resume();
    const u = new URL(req.url ?? '/', 'http://x');
    handler(u.pathname, Number(u.searchParams.get('from') ?? 0), res);
  });
  servers.add(s);
  return new Promise((r) => s.listen(port, '127.0.0.1', () => r((s.address() as AddressInfo).port)));
}

const json = (res: import('node:http').ServerResponse, body: unknown) =>
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));

function io() {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (d) => (o += String(d)));
  err.on('data', (d) => (e += String(d)));
  return { io: { out, err }, out: () => o, err: () => e };
}

/** The engine before its restart: one page, then it dies in the middle of the next long poll. */
async function dyingEngine(): Promise<{ port: number; died: Promise<void> }> {
  let die!: () => void;
  const died = new Promise<void>((r) => (die = r));
  const port = await listen((path, from, res) => {
    if (path.endsWith('/logs') && from === 0) return json(res, { lines: ['before'], next: 1, done: false });
    // A kill -9: the held request's connection breaks and nothing listens any more.
    res.socket?.destroy();
    const s = [...servers][0] as Server;
    s.closeAllConnections();
    s.close(() => die());
    servers.delete(s);
  });
  return { port, died };
}

describe('follow() across an engine restart', () => {
  it('follows the same id on once the engine is back, within server_timeout', async () => {
    const { port, died } = await dyingEngine();
    const client = new ApiClient({
      url: `http://127.0.0.1:${port}`,
      token: 't',
      serverName: 'site',
      deadlineMs: 20_000,
    });
    const out = io();
    const seen: string[] = [];
    try {
      const following = follow(
        client,
        WID,
        { verbose: 0, pollIntervalMs: 1000 },
        out.io,
        new AbortController().signal,
      );
      await died;
      // Down for a while (every request refused), then back on the same port.
      await new Promise((r) => setTimeout(r, 1_200));
      await listen((path, from, res) => {
        seen.push(`${path} ${from}`);
        if (path.endsWith('/logs'))
          return json(res, { lines: ['engine restarted; resuming', 'done'], next: 2 ** 40 + 2, done: true });
        return json(res, { wid: WID, kind: 'deploy', user: 'u', status: 'done', startedAt: 0, nodes: {} });
      }, port);
      const st = await following;
      expect(st.status).toBe('done');
      expect(out.out()).toBe('before\nengine restarted; resuming\ndone\n');
      expect(out.err()).toBe(
        `Lost the connection to server site, trying again for 20 s (server_timeout)\nServer site is back, following ${WID} on\n`,
      );
      // It asked the new engine for the same operation, from where it was.
      expect(seen[0]).toBe(`/deployment/${WID}/logs 1`);
    } finally {
      await client.close();
    }
  });

  it('gives up once server_timeout passed without the engine back', async () => {
    const { port, died } = await dyingEngine();
    const client = new ApiClient({
      url: `http://127.0.0.1:${port}`,
      token: 't',
      serverName: 'site',
      deadlineMs: 1_500,
    });
    const out = io();
    try {
      const following = follow(client, WID, { verbose: 0 }, out.io, new AbortController().signal).catch(
        (e: unknown) => e,
      );
      await died;
      const e = await following;
      expect(e).toBeInstanceOf(ServerUnreachableError);
      expect((e as Error).message).toMatch(
        /^cannot reach the kaploy server site at http:\/\/127\.0\.0\.1:\d+: /,
      );
      expect(out.err()).toBe('Lost the connection to server site, trying again for 2 s (server_timeout)\n');
    } finally {
      await client.close();
    }
  });
});
