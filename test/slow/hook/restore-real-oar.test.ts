import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ApiClient } from '../../../src/client/http-client.js';
import { RESTORE_DEFAULTS } from '../../../src/common/hooks-config.js';
import { silentLogger } from '../../../src/common/logger.js';
import { loadSiteConfig } from '../../../src/common/site-config.js';
import { routePlugins } from '../../../src/engine/main.js';
import { engineRestoreGroup } from '../../../src/engine/oar-restore/engine-restore.js';
import { RestoreWorker } from '../../../src/engine/oar-restore/restore-worker.js';
import { createRestoreRoutes } from '../../../src/engine/oar-restore/routes-restores.js';
import { createEngineServices, type EngineServices } from '../../../src/engine/operations/engine-services.js';
import { type RunningServer, startServer } from '../../../src/engine/server/start.js';
import { testbedDown, testbedFault, testbedLayout, testbedUp } from '../../../src/testbed/index.js';
import { startEngine, stopEngine } from '../../../src/testbed/manager/engine-process.js';
import { ROOT } from '../../hook/helpers/paths.js';
import { job, nodeStates, oarsubAs, queueStates, sh, waitFor, waitState } from './helpers/oar.js';

// The whole loop on a virtual site: real OAR 2.5.9 runs the hooks; the engine (in this process, on
// the site's address) records the restore and its RestoreWorker, wired to the engine's own reboot
// and deployment services (engineRestoreGroup: a job's nodes restored together), restores
// production and puts the node back with the real oarnodesetting, or holds it out with the reason.
const SITE = 'rsite';
const HOOKS_CONFIG = '/etc/kaploy/oar-hooks.yaml';
const SPOOL = '/var/lib/kaploy/oar-spool-restore-test';
const ENDED = ['Terminated', 'Error'];

let dir: string;
let nodes: string[];
let server: RunningServer;
let worker: RestoreWorker;
// False once a test has replaced the in-process engine by the site's own `kaploy server` process.
let inProcessEngine = true;
// A job a failed test left behind, deleted after it so that the next tests find their nodes.
let openJob: number | undefined;
let admin: ApiClient;
let engineUrl: string;
let savedConfig: Buffer | undefined;

function siteEnv(user: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    KAPLOY_CLIENT_CONFIG: path.join(dir, 'client.yaml'),
    KAPLOY_TOKEN_FILE: path.join(dir, 'tokens', user),
    KAPLOY_LOG_LEVEL: 'silent',
  };
}
const cli = (name: string) => path.join(ROOT, 'dist', 'cli', `${name}.js`);

async function restoresOf(job: number): Promise<{ node: string; state: string; reason: string }[]> {
  return (
    await admin.request<{ restores: { node: string; state: string; reason: string }[] }>('GET', '/restores', {
      query: { job },
    })
  ).restores;
}

/** The hooks' configuration, pointed at this file's engine (other real-OAR tests use the same file). */
function writeHooksConfig(): void {
  writeFileSync(
    HOOKS_CONFIG,
    stringify({
      engine_url: engineUrl,
      admin_token_file: path.join(dir, 'oar-token', 'kaadmin'),
      partitions: ['*'],
      spool_dir: SPOOL,
      production_env: 'prod-env',
    }),
  );
}

/** `kastat3 -o all -d -m NODE` as the admin: [operation, step1, env] per row, oldest first. */
async function statsOf(node: string): Promise<string[][]> {
  const r = await sh(
    process.execPath,
    [cli('kastat3'), '-o', 'all', '-d', '-m', node, '-F', 'operation,step1,env'],
    {
      env: siteEnv('kaadmin'),
    },
  );
  if (r.code !== 0) throw new Error(`kastat3 failed (${r.code}): ${r.stdout}${r.stderr}`);
  return r.stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split(','));
}

/** The line of each node in `kaploy testbed status --dir DIR`. */
async function testbedStatusLines(ns: string[]): Promise<Record<string, string>> {
  const r = await sh(process.execPath, [cli('kaploy'), 'testbed', 'status', '--dir', dir]);
  if (r.code !== 0) throw new Error(`kaploy testbed status failed (${r.code}): ${r.stdout}${r.stderr}`);
  const lines = r.stdout.split('\n');
  return Object.fromEntries(ns.map((n) => [n, lines.find((l) => l.includes(n)) ?? '(no line)']));
}

async function waitAlive(ns: string[], timeoutMs = 90_000): Promise<void> {
  await waitFor(
    `${ns.join(', ')} Alive in oarnodes`,
    async () => {
      const s = await nodeStates();
      return ns.every((n) => s[n] === 'Alive');
    },
    timeoutMs,
  );
}

beforeAll(async () => {
  const setup = await sh('bash', [path.join(ROOT, 'scripts', 'setup-oar.sh'), 'reset'], {
    timeoutMs: 600_000,
  });
  if (setup.code !== 0) throw new Error(`setup-oar.sh failed: ${setup.stdout}${setup.stderr}`);
  dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-restore-oar-'));
  await sh('chmod', ['755', dir]);
  await testbedUp({ nodes: 3, site: SITE, dir, bootDelay: 50 });
  nodes = readFileSync(path.join(dir, 'nodes'), 'utf8').trim().split('\n');
  // The site's engine runs here instead, with the restore routes and worker (until the engine
  // registers them itself).
  await stopEngine(testbedLayout(dir));
  const config = loadSiteConfig(path.join(dir, 'site.yaml'));
  let w: RestoreWorker | undefined;
  let services: EngineServices | undefined;
  server = await startServer(config, {
    logger: silentLogger,
    plugins: (ctx) => {
      services = createEngineServices(ctx);
      return [...routePlugins(services), createRestoreRoutes({ onChange: () => w?.wake() })];
    },
  });
  worker = new RestoreWorker({
    db: server.ctx.store.db,
    restoreGroup: engineRestoreGroup(server.ctx, services as EngineServices),
    config: { ...RESTORE_DEFAULTS, maxAttempts: 1, nodeTimeoutMs: 600_000 },
    logger: silentLogger,
    pollMs: 500,
  });
  w = worker;
  worker.start();
  admin = new ApiClient({
    url: server.url,
    token: readFileSync(path.join(dir, 'tokens', 'kaadmin'), 'utf8').trim(),
  });
  engineUrl = server.url;
  // OAR: the virtual nodes as deploy=YES resources; the hooks pointed at this engine.
  const nodesFile = path.join(dir, 'oar-nodes');
  writeFileSync(nodesFile, nodes.map((n) => `${n}\n`).join(''));
  const reg = await sh('bash', [path.join(ROOT, 'scripts', 'setup-oar.sh'), 'nodes', nodesFile]);
  if (reg.code !== 0) throw new Error(`setup-oar.sh nodes: ${reg.stdout}${reg.stderr}`);
  await sh('install', ['-d', '-o', 'oar', '-g', 'oar', '-m', '700', path.join(dir, 'oar-token'), SPOOL]);
  await sh('install', [
    '-o',
    'oar',
    '-g',
    'oar',
    '-m',
    '600',
    path.join(dir, 'tokens', 'kaadmin'),
    path.join(dir, 'oar-token', 'kaadmin'),
  ]);
  mkdirSync('/etc/kaploy', { recursive: true });
  if (existsSync(HOOKS_CONFIG)) savedConfig = readFileSync(HOOKS_CONFIG);
  writeHooksConfig();
  // Other deploy=YES resources (other tests' nodes) out of the way: this test's jobs must land here.
  const others = Object.keys(await nodeStates()).filter((n) => !nodes.includes(n));
  if (others.length) await sh('oarnodesetting', ['-p', 'deploy=NO', ...others.flatMap((n) => ['-h', n])]);
  await sh('oarnodesetting', ['-s', 'Alive', ...nodes.flatMap((n) => ['-h', n])]);
  await waitFor('site nodes Alive', async () => {
    const s = await nodeStates();
    return nodes.every((n) => s[n] === 'Alive');
  });
}, 600_000);

afterEach(async () => {
  if (openJob !== undefined) {
    const j = openJob;
    openJob = undefined;
    if (!ENDED.includes((await job(j))?.state ?? 'Terminated')) {
      await sh('oardel', [String(j)]);
      await waitState(j, ENDED, 120_000);
    }
  }
  expect(await queueStates()).toEqual({ admin: 'Active', default: 'Active', besteffort: 'Active' });
});

afterAll(async () => {
  if (inProcessEngine) await worker?.stop();
  await admin?.close();
  if (inProcessEngine) await server?.close();
  if (dir) await testbedDown(dir).catch(() => undefined);
  if (savedConfig) writeFileSync(HOOKS_CONFIG, savedConfig);
  else rmSync(HOOKS_CONFIG, { force: true });
  // Back to deploy=YES for the other real-OAR tests' nodes; this site's nodes out of their way.
  const all = Object.keys(await nodeStates());
  const mine = nodes ?? [];
  const others = all.filter((n) => !mine.includes(n) && n.endsWith('.oartest'));
  if (others.length) await sh('oarnodesetting', ['-p', 'deploy=YES', ...others.flatMap((n) => ['-h', n])]);
  if (mine.length) await sh('oarnodesetting', ['-p', 'deploy=NO', ...mine.flatMap((n) => ['-h', n])]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the production restore after a deploy job, on a virtual site', () => {
  it('the owner deploys during the job; at the end every node runs production again and is Alive; a node that cannot be restored is held out with the reason', async () => {
    const [n1, n2, n3] = nodes as [string, string, string];
    const job = await oarsubAs('alice', ['-t', 'deploy', '-l', 'nodes=3,walltime=0:10', 'sleep 600']);
    await waitState(job, ['Running']);
    // During the job alice deploys her environment on two of her nodes; bob cannot.
    const dep = await sh(
      process.execPath,
      [cli('kadeploy3'), '-e', 'tiny-x64-base', '-u', 'deploy', '-m', n1, '-m', n2],
      { env: siteEnv('alice') },
    );
    expect(dep.code).toBe(0);
    const bob = await sh(
      process.execPath,
      [cli('kadeploy3'), '-e', 'tiny-x64-base', '-u', 'deploy', '-m', n3],
      { env: siteEnv('bob') },
    );
    expect(bob.code).not.toBe(0);
    expect(`${bob.stdout}${bob.stderr}`).toMatch(/right/i);
    // n3 will not come back: its reboots do nothing.
    await testbedFault(dir, n3, { kind: 'no_reboot', times: 1000 } as never);
    await sh('oardel', [String(job)]);
    await waitState(job, ENDED);
    expect(readdirSync(SPOOL)).toEqual([]);
    const rows = await waitFor(
      'the restores to finish',
      async () => {
        const r = await restoresOf(job);
        return r.length === 3 && r.every((x) => x.state === 'done' || x.state === 'failed') ? r : undefined;
      },
      600_000,
      1000,
    );
    expect(rows.map((r) => [r.node, r.state])).toEqual([
      [n1, 'done'],
      [n2, 'done'],
      [n3, 'failed'],
    ]);
    expect(rows[2]?.reason).not.toBe('');
    const states = await waitFor('OAR states', async () => {
      const s = await nodeStates();
      return s[n1] === 'Alive' && s[n2] === 'Alive' ? s : undefined;
    });
    expect(states[n3]).toMatch(/^Absent/);
    const n3info = await sh('oarnodes', [n3]);
    expect(n3info.stdout).toMatch(/kaploy_reason=\S/);
    for (const n of [n1, n2]) expect(server.ctx.store.nodes.get(n)?.state).toBe('prod_env');
  });

  it("the job deleted while the owner's deployment is still running: the deployment is cancelled, the node restored and Alive", async () => {
    const n = nodes[0] as string;
    await sh('oarnodesetting', ['-s', 'Alive', '-h', n]);
    await waitFor('node Alive', async () => (await nodeStates())[n] === 'Alive');
    const job = await oarsubAs('alice', ['-t', 'deploy', '-l', 'nodes=1,walltime=0:10', 'sleep 600']);
    const running = await waitState(job, ['Running']);
    const node = running.nodes[0] as string;
    // The deployment's first reboot takes 60 s more than usual: it is still running at oardel.
    await testbedFault(dir, node, { kind: 'slow_boot', extraMs: 60_000, times: 1 } as never);
    const deploying = sh(
      process.execPath,
      [cli('kadeploy3'), '-e', 'tiny-x64-base', '-u', 'deploy', '-m', node],
      { env: siteEnv('alice') },
    );
    await waitFor(
      'the deployment to start',
      async () => server.ctx.operations.list().some((o) => o.user === 'alice'),
      60_000,
    );
    await sh('oardel', [String(job)]);
    const dep = await deploying;
    expect(dep.code).not.toBe(0);
    expect(server.ctx.operations.list().filter((o) => o.user === 'alice')).toEqual([]);
    await waitState(job, ENDED);
    const rows = await waitFor(
      'the restore',
      async () => {
        const r = await restoresOf(job);
        return r.length === 1 && (r[0]?.state === 'done' || r[0]?.state === 'failed') ? r : undefined;
      },
      600_000,
      1000,
    );
    expect(rows.map((r) => [r.node, r.state, r.reason])).toEqual([[node, 'done', '']]);
    await waitFor('node back Alive', async () => (await nodeStates())[node] === 'Alive');
  });
  it('a destructive environment deployed during the job gets a full redeployment at the end, a plain one a reboot only', async () => {
    // Any two Alive nodes of the site (the first test leaves its third one held out).
    await sh('oarnodesetting', ['-s', 'Alive', '-h', nodes[0] as string, '-h', nodes[1] as string]);
    await waitAlive([nodes[0] as string, nodes[1] as string]);
    // alice's own copy of tiny-x64-base, marked destructive.
    const envName = 'alice-destructive';
    const printed = await sh(process.execPath, [cli('kaenv3'), '-p', 'tiny-x64-base', '-u', 'deploy'], {
      env: siteEnv('alice'),
    });
    expect(printed.code).toBe(0);
    const envFile = path.join(dir, `${envName}.env`);
    writeFileSync(
      envFile,
      printed.stdout.replace(/^(name\s*:).*$/m, `$1 ${envName}`).replace(/^visibility\s*:.*\n/m, ''),
    );
    await sh('chmod', ['644', envFile]);
    for (const args of [
      ['-a', envFile],
      ['--toggle-destructive-tag', envName],
    ]) {
      const r = await sh(process.execPath, [cli('kaenv3'), ...args], { env: siteEnv('alice') });
      expect(r.code, `kaenv3 ${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(0);
    }
    const job = await oarsubAs('alice', ['-t', 'deploy', '-l', 'nodes=2,walltime=0:10', 'sleep 600']);
    openJob = job;
    const running = await waitState(job, ['Running']);
    const [n1, n2] = [...running.nodes].sort() as [string, string];
    // n1: the destructive environment; n2: the plain one.
    const deps = await Promise.all([
      sh(process.execPath, [cli('kadeploy3'), '-e', envName, '-u', 'alice', '-m', n1], {
        env: siteEnv('alice'),
      }),
      sh(process.execPath, [cli('kadeploy3'), '-e', 'tiny-x64-base', '-u', 'deploy', '-m', n2], {
        env: siteEnv('alice'),
      }),
    ]);
    for (const d of deps) expect(d.code, `${d.stdout}${d.stderr}`).toBe(0);
    expect(Boolean(server.ctx.store.nodes.get(n1)?.destructive)).toBe(true);
    expect(Boolean(server.ctx.store.nodes.get(n2)?.destructive)).toBe(false);
    const before = { [n1]: (await statsOf(n1)).length, [n2]: (await statsOf(n2)).length };

    writeHooksConfig();
    await sh('oardel', [String(job)]);
    await waitState(job, ENDED);
    const rows = await waitFor(
      'the restores to finish',
      async () => {
        const r = await restoresOf(job);
        return r.length === 2 && r.every((x) => x.state === 'done' || x.state === 'failed') ? r : undefined;
      },
      600_000,
      1000,
    );
    expect(rows.map((r) => [r.node, r.state, r.reason])).toEqual([n1, n2].sort().map((n) => [n, 'done', '']));
    await waitAlive([n1, n2]);
    // The engine's record: n1 redeployed with production, no longer destructive; n2 rebooted onto
    // its recorded production; both run production (`prod_env`).
    expect(server.ctx.store.nodes.get(n1)).toMatchObject({
      state: 'prod_env',
      env: expect.stringMatching(/^prod-env:/),
      destructive: 0,
    });
    expect(server.ctx.store.nodes.get(n2)?.state).toBe('prod_env');
    const status = await testbedStatusLines([n1, n2]);
    for (const n of [n1, n2]) expect(status[n], `testbed status of ${n}`).toMatch(/production/);

    // The statistics: the destructive node redeployed with production (no reboot tried); the
    // plain one rebooted onto its recorded production, no new deployment.
    const after1 = (await statsOf(n1)).slice(before[n1]);
    const after2 = (await statsOf(n2)).slice(before[n2]);
    expect(after1.filter((r) => r[0] === 'deploy').map((r) => r[2])).toEqual([
      expect.stringMatching(/^prod-env:/),
    ]);
    expect(after1.filter((r) => r[1] === 'RecordedEnv')).toEqual([]);
    expect(after2.map((r) => r.slice(0, 2))).toEqual([['reboot', 'RecordedEnv']]);
  });

  it('the engine stopped during the epilogue: nodes Absent, queues active, request spooled; after the engine comes back and the spool is delivered, the nodes run production and are Alive', async () => {
    // Any two Alive nodes of the site (the first test leaves its third one held out).
    await sh('oarnodesetting', ['-s', 'Alive', '-h', nodes[0] as string, '-h', nodes[1] as string]);
    await waitAlive([nodes[0] as string, nodes[1] as string]);
    const job = await oarsubAs('alice', ['-t', 'deploy', '-l', 'nodes=2,walltime=0:10', 'sleep 600']);
    openJob = job;
    const running = await waitState(job, ['Running']);
    const [n1, n2] = [...running.nodes].sort() as [string, string];
    // alice deploys on one of them, so that one has something to undo.
    const dep = await sh(
      process.execPath,
      [cli('kadeploy3'), '-e', 'tiny-x64-base', '-u', 'deploy', '-m', n1],
      {
        env: siteEnv('alice'),
      },
    );
    expect(dep.code, `${dep.stdout}${dep.stderr}`).toBe(0);

    // The engine goes down (this file's in-process engine: worker, then server).
    inProcessEngine = false;
    await worker.stop();
    await server.close();
    writeHooksConfig();
    await sh('oardel', [String(job)]);
    await waitState(job, ENDED, 120_000);
    const states = await nodeStates();
    for (const n of [n1, n2]) expect(states[n], `oarnodes state of ${n}`).toMatch(/^Absent/);
    expect(await queueStates()).toEqual({ admin: 'Active', default: 'Active', besteffort: 'Active' });
    expect(readdirSync(SPOOL)).toEqual([`job-${job}.json`]);

    // The site's engine comes back as its own process (`kaploy server`, which runs the restore
    // worker itself) on the same address; the admin delivers the spool.
    await startEngine(testbedLayout(dir), engineUrl, path.join(dir, 'tokens', 'kaadmin'));
    const deliver = await sh(
      process.execPath,
      [cli('kaploy'), 'oar', 'restores', '--deliver', '-c', HOOKS_CONFIG],
      {
        env: { ...process.env, KAPLOY_LOG_LEVEL: 'silent' },
      },
    );
    expect(readdirSync(SPOOL), `kaploy oar restores --deliver: ${deliver.stdout}${deliver.stderr}`).toEqual(
      [],
    );
    const rows = await waitFor(
      'the restores to finish',
      async () => {
        const r = await restoresOf(job);
        return r.length === 2 && r.every((x) => x.state === 'done' || x.state === 'failed') ? r : undefined;
      },
      600_000,
      1000,
    );
    expect(rows.map((r) => [r.node, r.state, r.reason])).toEqual([n1, n2].sort().map((n) => [n, 'done', '']));
    await waitAlive([n1, n2]);
    const status = await testbedStatusLines([n1, n2]);
    for (const n of [n1, n2]) expect(status[n], `testbed status of ${n}`).toMatch(/production/);
  });
});
