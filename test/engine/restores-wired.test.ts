import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyPluginAsync } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RestoreRow } from '../../src/api/restores.js';
import { silentLogger } from '../../src/common/logger.js';
import { type RunningServer, routePlugins, startEngine } from '../../src/engine/main.js';
import { createEngineServices } from '../../src/engine/operations/engine-services.js';
import type { EngineContext } from '../../src/engine/server/context.js';
import { startServer } from '../../src/engine/server/start.js';
import { ADMIN, makeSite, type TestSite } from './helpers/site.js';

/** `kaploy server` (the engine assembly, src/engine/main.ts) serves the OAR restores and runs their worker. */
let site: TestSite;
let server: RunningServer;

beforeAll(async () => {
  site = makeSite({ users: ['alice'], name: 'restorewired' });
  server = await startEngine(site.config, { port: 0, logger: silentLogger });
});
afterAll(async () => {
  await server?.close();
  site?.cleanup();
});

/** State and attempts of a job's restore rows ("pending 0": never taken up by a worker). */
async function statesOf(s: TestSite, url: string, job: number): Promise<string[]> {
  const admin = s.client(ADMIN, url);
  try {
    const r = await admin.request<{ restores: RestoreRow[] }>('GET', '/restores', { query: { job } });
    return r.restores.map((x) => `${x.state} ${x.attempts}`);
  } finally {
    await admin.close();
  }
}

describe('OAR restores in the engine', () => {
  it('an admin records a restore request; a user may not', async () => {
    const admin = site.client(ADMIN, server.url);
    const alice = site.client('alice', server.url);
    await expect(
      alice.request('POST', '/restores', { body: { job: 7, user: 'alice', nodes: ['node-1.testsite'] } }),
    ).rejects.toMatchObject({ code: 'KAPLOY_RIGHTS' });
    await admin.request('POST', '/restores', { body: { job: 7, user: 'alice', nodes: ['node-1.testsite'] } });
    const list = await admin.request<unknown>('GET', '/restores');
    expect(JSON.stringify(list)).toContain('node-1.testsite');
    await admin.close();
    await alice.close();
  });

  it('the worker takes a request up at once; with restores: routes the request stays pending', async () => {
    const admin = site.client(ADMIN, server.url);
    await admin.request('POST', '/restores', { body: { job: 8, user: 'alice', nodes: ['node-2.testsite'] } });
    await admin.close();
    const end = Date.now() + 20_000;
    // Taken up: running, or failed back to pending for a retry (this site's nodes do not exist).
    while ((await statesOf(site, server.url, 8)).includes('pending 0') && Date.now() < end) await sleep(50);
    expect(await statesOf(site, server.url, 8)).not.toContain('pending 0');

    const quiet = makeSite({ users: ['alice'], name: 'restoreroutes' });
    const routesOnly = await startEngine(quiet.config, { port: 0, logger: silentLogger, restores: 'routes' });
    try {
      const a = quiet.client(ADMIN, routesOnly.url);
      await a.request('POST', '/restores', { body: { job: 8, user: 'alice', nodes: ['node-2.testsite'] } });
      await a.close();
      await sleep(500);
      expect(await statesOf(quiet, routesOnly.url, 8)).toEqual(['pending 0']);
    } finally {
      await routesOnly.close();
      quiet.cleanup();
    }
  });
});

describe('startServer services', () => {
  it('serves a service routes beside the plugins and stops it at close, before the store closes', async () => {
    const s = makeSite({ users: [], name: 'services' });
    const events: string[] = [];
    const plugin: FastifyPluginAsync<{ ctx: EngineContext }> = async (app) => {
      app.get('/svc', async () => ({ ok: true }));
    };
    let seen: EngineContext | undefined;
    const running = await startServer(s.config, {
      port: 0,
      logger: silentLogger,
      plugins: (ctx) => routePlugins(createEngineServices(ctx)),
      services: (ctx) => {
        seen = ctx;
        return [
          { plugin, stop: async () => void events.push(`first stopped, store open: ${ctx.store.db.open}`) },
          { stop: async () => void events.push('second stopped') },
        ];
      },
    });
    try {
      expect(seen?.config.site).toBe('services');
      const admin = s.client(ADMIN, running.url);
      expect(await admin.request('GET', '/svc')).toEqual({ ok: true });
      await admin.close();
    } finally {
      await running.close();
      s.cleanup();
    }
    // Stopped in reverse order of creation, while the store was still open.
    expect(events).toEqual(['second stopped', 'first stopped, store open: true']);
  });

  it('stops the services when the engine cannot listen', async () => {
    const s = makeSite({ users: [], name: 'busyport' });
    const taken = await startEngine(s.config, { port: 0, logger: silentLogger, restores: 'routes' });
    const port = Number(new URL(taken.url).port);
    const other = makeSite({ users: [], name: 'busyport2' });
    let stopped = 0;
    try {
      await expect(
        startServer(other.config, {
          port,
          host: '127.0.0.1',
          logger: silentLogger,
          plugins: (ctx) => routePlugins(createEngineServices(ctx)),
          services: () => [{ stop: async () => void stopped++ }],
        }),
      ).rejects.toMatchObject({ code: 'EADDRINUSE' });
      expect(stopped).toBe(1);
    } finally {
      await taken.close();
      s.cleanup();
      other.cleanup();
    }
  });
});
