// A real engine on a port for the HTTP fuzz of the reliability scenario, from the build: a
// temporary site of 4 nodes nobody has rights on (nothing a request asks is started), users
// `alice` and `admin`, with the Kadeploy-compatible listener on a port of its own. The tests start theirs with test/engine/helpers/site.ts instead.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';

export async function startDistEngine(root) {
  const load = (p) => import(pathToFileURL(path.join(root, 'dist', p)).href);
  const [
    { loadSiteConfig },
    { ensureEngineKey },
    { openStore, storePath },
    { enrolUser },
    { startEngine },
    { silentLogger },
    { kadeployApiUrl },
  ] = await Promise.all([
    load('common/site-config.js'),
    load('engine/server/engine-key.js'),
    load('engine/store/store.js'),
    load('engine/auth/enrol.js'),
    load('engine/main.js'),
    load('common/logger.js'),
    load('engine/kadeploy-api/listener.js'),
  ]);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-fuzz-engine-'));
  try {
    mkdirSync(path.join(dir, 'images'));
    writeFileSync(path.join(dir, 'images', 'keep.dd.gz'), 'an image the fuzz must not lose\n');
    const file = path.join(dir, 'site.yaml');
    writeFileSync(
      file,
      stringify({
        site: 'testsite',
        data_dir: path.join(dir, 'data'),
        admins: ['admin'],
        image_dirs: [path.join(dir, 'images')],
        ssh: { key: path.join(dir, 'keys', 'engine') },
        clusters: [{ name: 'c1', nodes: [{ names: 'node-[1-4].testsite', addresses: '127.0.9.[1-4]' }] }],
      }),
    );
    const config = loadSiteConfig(file);
    ensureEngineKey(config.ssh.keyFile);
    const store = openStore(storePath(config.dataDir));
    const tokens = {};
    try {
      for (const [role, user] of [
        ['user', 'alice'],
        ['admin', 'admin'],
      ]) {
        const out = path.join(dir, 'tokens', user);
        enrolUser(store, { user, site: config.site, out });
        tokens[role] = readFileSync(out, 'utf8').trim();
      }
    } finally {
      store.close();
    }
    const kadeployApi = {
      enabled: true,
      host: '127.0.0.1',
      port: 0,
      prefix: '',
      trustedProxies: [],
      headerPrefix: 'X-Kadeploy-',
    };
    const server = await startEngine(
      { ...config, kadeployApi },
      { port: 0, host: '127.0.0.1', logger: silentLogger },
    );
    // An environment of the admin's the fuzz must leave as it was (its `dataLost` check).
    const keep = `name: keep\nos: other\nimage: {file: "server://${path.join(dir, 'images', 'keep.dd.gz')}", kind: dd, compression: gzip}\n`;
    const asAdmin = { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' };
    const added = await fetch(`${server.url}/environments`, {
      method: 'POST',
      headers: asAdmin,
      body: JSON.stringify({ description: keep, file: 'keep.yaml' }),
    });
    if (added.status !== 200 && added.status !== 201)
      throw new Error(`adding the kept environment: HTTP ${added.status} ${await added.text()}`);
    await added.text();
    const listKept = async () => {
      const r = await fetch(`${server.url}/environments?user=admin&name=keep`, { headers: asAdmin });
      return r.status === 200 ? await r.text() : `HTTP ${r.status}`;
    };
    const kept = await listKept();
    return {
      url: server.url,
      /** How many environments the fuzz lost or changed (0 or 1: the admin's `keep`). */
      async lost() {
        return (await listKept()) === kept ? 0 : 1;
      },
      /** The Kadeploy-compatible listener's base URL. */
      kadeployUrl: kadeployApiUrl(server.ctx),
      tokens,
      async close() {
        await server.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
