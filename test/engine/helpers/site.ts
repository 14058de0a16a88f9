import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { ApiClient } from '../../../src/client/http-client.js';
import { loadSiteConfig, type SiteConfig } from '../../../src/common/site-config.js';
import { enrolUser } from '../../../src/engine/auth/enrol.js';
import { ensureEngineKey } from '../../../src/engine/server/engine-key.js';
import { openStore, storePath } from '../../../src/engine/store/store.js';

/** A temporary site: config, image dir, one token and client config per user. */
export interface TestSite {
  dir: string;
  configFile: string;
  config: SiteConfig;
  imageDir: string;
  tokenFile(user: string): string;
  /** Environment for spawned commands acting as `user` against `url`. */
  envFor(user: string, url: string): NodeJS.ProcessEnv;
  client(user: string, url: string): ApiClient;
  cleanup(): void;
}

export const ADMIN = 'admin';

export function makeSite(opts: {
  users: string[];
  nodes?: number;
  name?: string;
  /** The cluster's `commands` (reboot, power_on, power_off, ... as in site.yaml). */
  commands?: Record<string, unknown>;
  /** The site's `admission` section (max_operations, max_nodes). */
  admission?: Record<string, number>;
}): TestSite {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-engine-'));
  const imageDir = path.join(dir, 'images');
  mkdirSync(imageDir);
  const n = opts.nodes ?? 4;
  const configFile = path.join(dir, 'site.yaml');
  writeFileSync(
    configFile,
    stringify({
      site: opts.name ?? 'testsite',
      data_dir: path.join(dir, 'data'),
      admins: ['root', ADMIN, 'deploy'],
      image_dirs: [imageDir],
      ssh: { key: path.join(dir, 'keys', 'engine') },
      ...(opts.admission ? { admission: opts.admission } : {}),
      clusters: [
        {
          name: 'c1',
          nodes: [{ names: `node-[1-${n}].testsite`, addresses: `127.0.9.[1-${n}]` }],
          ...(opts.commands ? { commands: opts.commands } : {}),
        },
      ],
    }),
  );
  let config: SiteConfig;
  try {
    config = loadSiteConfig(configFile);
    ensureEngineKey(config.ssh.keyFile);
    const store = openStore(storePath(config.dataDir));
    try {
      for (const u of new Set([...opts.users, ADMIN, 'deploy'])) {
        enrolUser(store, { user: u, site: config.site, out: path.join(dir, 'tokens', u) });
      }
    } finally {
      store.close();
    }
  } catch (e) {
    // A site that could not be set up leaves no directory behind.
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const clientConfigs = new Map<string, string>();
  const clientConfig = (user: string, url: string) => {
    const key = `${user} ${url}`;
    let f = clientConfigs.get(key);
    if (!f) {
      f = path.join(dir, `client-${user}-${clientConfigs.size}.yaml`);
      writeFileSync(
        f,
        stringify({
          default: 'test',
          servers: { test: { url, token_file: path.join(dir, 'tokens', user) } },
        }),
      );
      clientConfigs.set(key, f);
    }
    return f;
  };
  return {
    dir,
    configFile,
    config,
    imageDir,
    tokenFile: (u) => path.join(dir, 'tokens', u),
    envFor: (user, url) => ({
      ...process.env,
      KAPLOY_CLIENT_CONFIG: clientConfig(user, url),
      KAPLOY_TOKEN_FILE: undefined,
      KAPLOY_LOG_LEVEL: 'silent',
    }),
    client: (user, url) =>
      new ApiClient({
        url,
        token: readFileSync(path.join(dir, 'tokens', user), 'utf8').trim(),
        serverName: 'test',
      }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function writeFile(dir: string, name: string, content: string | Buffer, mode = 0o644): string {
  const f = path.join(dir, name);
  mkdirSync(path.dirname(f), { recursive: true });
  writeFileSync(f, content);
  chmodSync(f, mode);
  return f;
}
