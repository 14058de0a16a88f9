import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../common/logger.js';
import { loadSiteConfig } from '../../common/site-config.js';
import { enrolUser } from '../../engine/auth/enrol.js';
import { FileCache } from '../../engine/environments/file-cache.js';
import { seedEnvironments } from '../../engine/environments/seed.js';
import type { EngineContext } from '../../engine/server/context.js';
import { OperationRegistry } from '../../engine/server/operations-registry.js';
import { openStore, storePath } from '../../engine/store/store.js';
import { startEngine } from './engine-process.js';
import type { TestbedLayout } from './layout.js';
import type { TestbedState } from './testbed-state.js';

/** Users of a virtual site: the caller, the owner of public environments, an admin, three users for tests. */
export const ADMIN_USER = 'kaadmin';
export const TEST_USERS = ['alice', 'bob', 'carol'];

/**
 * What runs beside the nodes: enrol the site's users (tokens in DIR/tokens, mode 600), record the
 * reference environments as public ones of `deploy` (the tutorial's tiny-x64-base in the key/value
 * format, the others in YAML), give the caller rights on every node (on a real site the OAR
 * prologue does this per job), then start the engine and wait until it answers.
 */
export async function startEngineAndSeedEnvironments(
  l: TestbedLayout,
  s: TestbedState,
  o: { signal?: AbortSignal; logger: Logger },
): Promise<{ engineUrl?: string }> {
  const config = loadSiteConfig(l.siteYaml);
  const me = os.userInfo().username;
  const store = openStore(storePath(config.dataDir));
  const ac = new AbortController();
  try {
    for (const user of [...new Set([me, 'deploy', ADMIN_USER, ...TEST_USERS])]) {
      enrolUser(store, { user, site: config.site, out: path.join(l.tokensDir, user) });
    }
    const ctx: EngineContext = {
      config,
      store,
      operations: new OperationRegistry(),
      logger: o.logger,
      files: new FileCache(config.dataDir),
      signal: ac.signal,
    };
    const descs = readdirSync(l.envsDir)
      .filter((f) => f.endsWith('.yaml') && f !== 'tiny-x64-base.yaml')
      .map((f) => path.join(l.envsDir, f));
    await seedEnvironments(ctx, 'deploy', [path.join(l.envsDir, 'tiny-x64-base.env'), ...descs], o.signal);
    store.rights.add([{ user: me, node: '*', partition: '*' }]);
  } finally {
    ac.abort();
    store.close();
  }
  const engineUrl = `http://127.0.0.1:${s.enginePort}`;
  await startEngine(l, engineUrl, path.join(l.tokensDir, ADMIN_USER), o.signal);
  o.logger.info({ engineUrl }, 'engine started');
  return { engineUrl };
}
