import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/client/http-client.js';
import { silentLogger } from '../../src/common/logger.js';
import { loadSiteConfig } from '../../src/common/site-config.js';
import { enrolUser } from '../../src/engine/auth/enrol.js';
import { FileCache } from '../../src/engine/environments/file-cache.js';
import { buildApp } from '../../src/engine/server/app.js';
import { OperationRegistry } from '../../src/engine/server/operations-registry.js';
import { openStore, type Store, storePath } from '../../src/engine/store/store.js';
import { recordStats } from '../../src/stats/record-stats.js';
import { statsRoutes } from '../../src/stats/routes-stats.js';
import { D1_KO, D1_OK, D2_KO, D2_OK, D3, lines, seedKnownOperations } from './helpers.js';

/** The stats routes inside the engine's own app: its store (migrations), auth hook and error format. */
let dir: string;
let store: Store;
let app: FastifyInstance;
let client: ApiClient;
const ac = new AbortController();

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-stats-engine-'));
  const configFile = path.join(dir, 'site.yaml');
  writeFileSync(
    configFile,
    `site: orsay\ndata_dir: ${dir}/data\nclusters:\n  - name: gdx\n    nodes: [{ names: 'gdx-[1-2].orsay', addresses: '127.0.9.[1-2]' }]\n`,
  );
  const config = loadSiteConfig(configFile);
  store = openStore(storePath(config.dataDir));
  enrolUser(store, { user: 'gsimo', site: config.site, out: path.join(dir, 'tokens', 'gsimo') });
  seedKnownOperations(store.db);
  app = await buildApp(
    {
      config,
      store,
      operations: new OperationRegistry(),
      logger: silentLogger,
      files: new FileCache(config.dataDir),
      signal: ac.signal,
    },
    [statsRoutes],
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const a = app.server.address();
  if (a === null || typeof a === 'string') throw new Error('no address');
  client = new ApiClient({
    url: `http://127.0.0.1:${a.port}`,
    token: readFileSync(path.join(dir, 'tokens', 'gsimo'), 'utf8').trim(),
  });
});
afterAll(async () => {
  ac.abort();
  await client?.close();
  await app?.close();
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('stats routes in the engine app', () => {
  it('streams deployments recorded in the engine store', async () => {
    expect(await text(await client.stream('GET', '/stats/deploy'))).toBe(
      lines(D1_OK, D1_KO, D2_OK, D2_KO, D3),
    );
  });

  it('sees rows recorded after the app started, and the site column', async () => {
    recordStats(store.db, [
      {
        wid: 'R-9',
        operation: 'reboot',
        user: 'gsimo',
        hostname: 'gdx-1.orsay',
        step1: 'Simple',
        step2: '',
        step3: '',
        timeout_step1: 200,
        timeout_step2: 0,
        timeout_step3: 0,
        retry_step1: 0,
        retry_step2: 0,
        retry_step3: 0,
        start: 1400000000,
        step1_duration: 80,
        step2_duration: 0,
        step3_duration: 0,
        env: '',
        anonymous_env: false,
        md5: '',
        success: true,
        error: '',
      },
    ]);
    expect(
      await text(
        await client.stream('GET', '/stats', { query: { wid: 'R-9', fields: 'site,wid,hostname,success' } }),
      ),
    ).toBe('orsay,R-9,gdx-1.orsay,true\n');
  });

  it('answers bad input in the engine error format', async () => {
    await expect(client.stream('GET', '/stats', { query: { from: 'tomorrow' } })).rejects.toMatchObject({
      code: 'KAPLOY_OPTION',
      message: expect.stringContaining("invalid start date (-x) 'tomorrow': expected yyyy:mm:dd:hh:mm:ss"),
    });
    await expect(
      client.request('GET', '/stats', { query: { kind: 'failure-rate', min_rate: '100.5' } }),
    ).rejects.toMatchObject({
      code: 'KAPLOY_OPTION',
    });
  });

  it('refuses a request without a valid token', async () => {
    const anon = new ApiClient({ url: client.url, token: 'x'.repeat(32) });
    await expect(anon.stream('GET', '/stats')).rejects.toMatchObject({ code: 'KAPLOY_AUTH' });
    await anon.close();
  });
});
