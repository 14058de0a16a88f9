import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { ApiClient } from '../../../src/client/http-client.js';
import { silentLogger } from '../../../src/common/logger.js';
import { loadSiteConfig } from '../../../src/common/site-config.js';
import { enrolUser } from '../../../src/engine/auth/enrol.js';
import { routePlugins } from '../../../src/engine/main.js';
import { createRestoreRoutes } from '../../../src/engine/oar-restore/routes-restores.js';
import { createEngineServices } from '../../../src/engine/operations/engine-services.js';
import { ensureEngineKey } from '../../../src/engine/server/engine-key.js';
import { type RunningServer, startServer } from '../../../src/engine/server/start.js';
import { openStore, storePath } from '../../../src/engine/store/store.js';

const ADMIN = 'kaadmin';

/** The real engine, in process on port 0, with the restore routes; a site of `nodes` nodes. */
export interface TestEngine {
  dir: string;
  server: RunningServer;
  url: string;
  nodes: string[];
  tokenFile(user: string): string;
  client(user: string): ApiClient;
  /** Rights (node names) of a user, straight from the store. */
  rightsOf(user: string): string[];
  /** How many times the restore routes signalled a change. */
  changes: number;
  close(): Promise<void>;
}

export async function startTestEngine(opts: {
  nodes: number;
  users?: string[];
  site?: string;
}): Promise<TestEngine> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-oar-engine-'));
  const site = opts.site ?? 'vsite';
  const configFile = path.join(dir, 'site.yaml');
  const n = opts.nodes;
  writeFileSync(
    configFile,
    stringify({
      site,
      data_dir: path.join(dir, 'data'),
      admins: [ADMIN],
      image_dirs: [path.join(dir, 'images')],
      ssh: { key: path.join(dir, 'keys', 'engine') },
      production: { environment: 'prod-env', user: 'deploy' },
      clusters: [
        {
          name: 'c1',
          nodes: Array.from({ length: n }, (_, i) => ({
            name: `node-${i + 1}.${site}`,
            address: `127.11.${Math.floor(i / 250)}.${(i % 250) + 1}`,
          })),
        },
      ],
    }),
  );
  const state = { changes: 0 };
  let server: RunningServer;
  try {
    const config = loadSiteConfig(configFile);
    ensureEngineKey(config.ssh.keyFile);
    const store = openStore(storePath(config.dataDir));
    try {
      for (const u of new Set([...(opts.users ?? ['alice', 'bob']), ADMIN]))
        enrolUser(store, { user: u, site, out: path.join(dir, 'tokens', u) });
    } finally {
      store.close();
    }
    server = await startServer(config, {
      port: 0,
      host: '127.0.0.1',
      logger: silentLogger,
      plugins: (ctx) => [
        ...routePlugins(createEngineServices(ctx)),
        createRestoreRoutes({ onChange: () => state.changes++ }),
      ],
    });
  } catch (e) {
    // An engine that did not start leaves no directory behind.
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const tokenFile = (u: string) => path.join(dir, 'tokens', u);
  return {
    dir,
    server,
    url: server.url,
    nodes: Array.from({ length: n }, (_, i) => `node-${i + 1}.${site}`),
    tokenFile,
    client: (u) => new ApiClient({ url: server.url, token: readFileSync(tokenFile(u), 'utf8').trim() }),
    rightsOf: (u) => server.ctx.store.rights.list({ user: u }).map((r) => `${r.node}:${r.partition}`),
    get changes() {
      return state.changes;
    },
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
