import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/logger.js';
import { type RunningServer, startEngine } from '../../src/engine/main.js';
import { ADMIN, makeSite, type TestSite } from './helpers/site.js';

/** `kaploy server` (the default plugin list) serves the OAR restores and runs their worker. */
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
});
