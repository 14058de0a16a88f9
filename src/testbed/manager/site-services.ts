import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiClient } from '../../client/http-client.js';
import { KaployError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { readPemFile } from '../../common/pem-file.js';
import { describeFailure, runCommand } from '../../common/run-command.js';
import { readToken } from '../../common/token-file.js';
import { startEngine } from './engine-process.js';
import type { TestbedLayout } from './layout.js';
import { kaployJs } from './package-paths.js';
import { engineUrl, type TestbedState } from './testbed-state.js';
import { tlsFiles } from './tls-files.js';

/** Users of a virtual site: the caller, the owner of public environments, an admin, three users for tests. */
const ADMIN_USER = 'kaadmin';
const TEST_USERS = ['alice', 'bob', 'carol'];

/** `kaploy server SUBCOMMAND --config DIR/site.yaml ...`: the engine's own admin commands. */
async function kaployServer(
  l: TestbedLayout,
  sub: 'token' | 'add-env',
  args: readonly string[],
  signal?: AbortSignal,
): Promise<void> {
  const argv = [process.execPath, kaployJs, 'server', sub, '--config', l.siteYaml, ...args];
  const r = await runCommand(argv, { timeoutMs: 120_000, ...(signal ? { signal } : {}) });
  if (r.code !== 0)
    throw new KaployError('KAPLOY_INTERNAL', `kaploy server ${sub} failed: ${describeFailure(r)}`);
}

/**
 * What runs beside the nodes, set up the way a site admin would, through the engine's own
 * commands and API: enrol the site's users (`kaploy server token`, tokens in DIR/tokens, mode
 * 600), record the reference environments as public ones of `deploy` (`kaploy server add-env`: the
 * tutorial's tiny-x64-base in the key/value format, the others in YAML), start the engine and wait
 * until it answers, then give the caller rights on every node (POST /rights as the admin; on a real
 * site the OAR prologue does this per job).
 */
export async function startEngineAndSeedEnvironments(
  l: TestbedLayout,
  s: TestbedState,
  o: { signal?: AbortSignal; logger: Logger },
): Promise<{ engineUrl?: string }> {
  const me = os.userInfo().username;
  const users = [...new Set([me, 'deploy', ADMIN_USER, ...TEST_USERS])];
  await kaployServer(l, 'token', ['--out-dir', l.tokensDir, '--user', ...users], o.signal);
  const descs = readdirSync(l.envsDir)
    .filter((f) => f.endsWith('.yaml') && f !== 'tiny-x64-base.yaml')
    .map((f) => path.join(l.envsDir, f));
  const envs = [path.join(l.envsDir, 'tiny-x64-base.env'), ...descs];
  await kaployServer(l, 'add-env', ['--user', 'deploy', ...envs], o.signal);
  const url = engineUrl(s);
  const ca = s.tls ? readPemFile(tlsFiles(l).caCert, 'the virtual site CA') : undefined;
  const adminToken = path.join(l.tokensDir, ADMIN_USER);
  await startEngine(l, url, adminToken, o.signal, ca);
  const admin = new ApiClient({
    url,
    token: readToken(adminToken),
    serverName: 'engine',
    ...(ca ? { ca } : {}),
  });
  try {
    await admin.request('POST', '/rights', {
      body: { user: me, nodes: ['*'], partitions: ['*'] },
      ...(o.signal ? { signal: o.signal } : {}),
    });
  } finally {
    await admin.close();
  }
  o.logger.info({ engineUrl: url }, 'engine started');
  return { engineUrl: url };
}
