import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, ServerSilentError } from '../../src/client/http-client.js';

/**
 * The client's silence deadline against a scripted HTTP server (not an engine): a request to a
 * server that stops answering fails once it said nothing for the deadline; a long request to a
 * server that still answers heartbeats is not cut.
 */
let server: Server;
let url: string;
/** Responses held open by the "hung" routes, ended at the end so the server can close. */
const held: ServerResponse[] = [];
let hung = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    const p = req.url?.split('?')[0];
    if (hung) {
      held.push(res);
      return;
    }
    if (p === '/version')
      return res.writeHead(200, { 'content-type': 'application/json' }).end('{"version":"0.1.0"}');
    if (p === '/slow') {
      setTimeout(
        () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"slow":true}'),
        1_500,
      );
      return;
    }
    if (p === '/never') return void held.push(res);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const r of held) r.destroy();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('ApiClient silence deadline (server_timeout)', () => {
  it('keeps a long request to a server that answers heartbeats (1.5 s with a 0.6 s deadline)', async () => {
    const c = new ApiClient({ url, token: 't', serverName: 'alive', deadlineMs: 600 });
    try {
      expect(await c.request('GET', '/slow')).toEqual({ slow: true });
    } finally {
      await c.close();
    }
  });

  it('fails a request to a server that says nothing at all, once the deadline passed', async () => {
    hung = true;
    const c = new ApiClient({ url, token: 't', serverName: 'frozen', deadlineMs: 600 });
    try {
      const e = await c.request('GET', '/logs').catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ServerSilentError);
      expect((e as ServerSilentError).code).toBe('KAPLOY_CLIENT');
      expect((e as Error).message).toBe(
        `the kaploy server frozen at ${url} stopped answering: nothing heard from it for 1 s (server_timeout)`,
      );
    } finally {
      hung = false;
      // close() returns although the heartbeat to the frozen server was still out.
      await c.close();
    }
  });

  it("does not cut a request a live server holds (it answers heartbeats): the caller's signal ends it", async () => {
    // Documented limit (docs/grid.md): only silence is bounded; the caller's signal ends this one.
    const c = new ApiClient({ url, token: 't', serverName: 'alive', deadlineMs: 300 });
    const ac = new AbortController();
    const p = c.request('GET', '/never', { signal: ac.signal }).catch((x: unknown) => x);
    await new Promise((r) => setTimeout(r, 1_000));
    ac.abort(new Error('stop'));
    const e = await p;
    expect(e).not.toBeInstanceOf(ServerSilentError);
    expect((e as Error).message).toBe('stop');
    await c.close();
  });
});
