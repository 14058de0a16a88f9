import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESTORE_DEFAULTS, type RestoreConfig } from '../../../src/common/hooks-config.js';
import { silentLogger } from '../../../src/common/logger.js';
import { loadSiteConfig } from '../../../src/common/site-config.js';
import type { AuthenticatedUser } from '../../../src/engine/auth/authenticate.js';
import { findEnvironment } from '../../../src/engine/environments/environment-service.js';
import { routePlugins } from '../../../src/engine/main.js';
import { createOarRestores, type OarRestores } from '../../../src/engine/oar-restore/engine-oar.js';
import { planDeployment } from '../../../src/engine/operations/deployment.js';
import { createEngineServices, type EngineServices } from '../../../src/engine/operations/engine-services.js';
import { type RunningServer, startServer } from '../../../src/engine/server/start.js';
import { testbedFault, testbedLayout } from '../../../src/testbed/index.js';
import { stopEngine } from '../../../src/testbed/manager/engine-process.js';
import { type Site, startSite } from '../../e2e/helpers/virtual-site.js';
import { type FakeOar, makeFakeOar } from '../../hook/helpers/fake-oar.js';

/**
 * The engine's grouped restore (engineRestoreGroup, wired by createOarRestores) on a virtual site:
 * the site's engine runs in this process on the site's store, its restore worker puts nodes back
 * with an executable standing in for oarnodesetting. What each restore did is read from the
 * engine's workflows table (the operations of the production user).
 */
let site: Site;
let server: RunningServer;
let services: EngineServices;
let oar: OarRestores;
let fake: FakeOar;
let dir: string;
let restoreConfig: RestoreConfig;
let job = 100;
const alice: AuthenticatedUser = { name: 'alice', admin: false };
const DESTRUCTIVE = 'alice-destructive';

beforeAll(async () => {
  site = await startSite({ nodes: 8, site: 'grestore' });
  // The site's own engine process would run a restore worker on the same store: this one replaces it.
  await stopEngine(testbedLayout(site.dir));
  const base = loadSiteConfig(path.join(site.dir, 'site.yaml'));
  // Reboots wait 5 s per level (the site: 30 s), so a node whose reboots do nothing fails in seconds.
  const config = {
    ...base,
    clusters: base.clusters.map((c) => ({ ...c, timeouts: { ...c.timeouts, reboot: '5' } })),
  };
  server = await startServer(config, {
    port: 0,
    host: '127.0.0.1',
    logger: silentLogger,
    plugins: (ctx) => {
      services = createEngineServices(ctx);
      return routePlugins(services);
    },
  });
  dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-oar-engine-restore-'));
  fake = makeFakeOar(dir);
  restoreConfig = {
    ...RESTORE_DEFAULTS,
    maxAttempts: 1,
    retryDelayMs: 0,
    aliveCommand: [fake.oarnodesetting, '-s', 'Alive', '-h', '{node}'],
    holdCommands: [[fake.oarnodesetting, '-n', '-s', 'Absent', '-h', '{node}']],
  };
  oar = createOarRestores(server.ctx, services, {
    config: restoreConfig,
    configFile: path.join(dir, 'absent.yaml'),
    pollMs: 100,
  });
  const { ctx } = server;
  ctx.store.rights.add(site.nodes.map((node) => ({ user: 'alice', node, partition: '*' })));
  // alice's own copy of tiny-x64-base, tagged destructive.
  const {
    id: _id,
    created: _created,
    user: _user,
    ...env
  } = findEnvironment(ctx, alice, {
    name: 'tiny-x64-base',
    user: 'deploy',
  });
  ctx.store.environments.insert('alice', {
    ...env,
    name: DESTRUCTIVE,
    visibility: 'private',
    destructive: true,
  });
}, 120_000);

afterAll(async () => {
  await oar?.stop();
  await server?.close();
  await site?.down();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** alice's deployment during her job. */
async function deployAs(nodes: string[], env: { name: string; user: string }): Promise<void> {
  const { operations, deps } = services;
  const plan = await planDeployment(server.ctx, deps, alice, {
    nodes,
    environment: { kind: 'recorded', ...env },
  });
  const outs = await operations.run(plan);
  expect(outs.map((o) => [o.node, o.status, o.reason ?? ''])).toEqual(nodes.map((n) => [n, 'ok', '']));
  for (const n of nodes)
    expect(server.ctx.store.nodes.get(n)?.destructive).toBe(env.user === 'alice' ? 1 : 0);
}

/** The production user's operations (the restores') so far: "kind node,node,...", oldest first. */
function restoreOps(): string[] {
  const rows = server.ctx.store.db
    .prepare("SELECT kind, request FROM workflows WHERE user = 'deploy' ORDER BY created, rowid")
    .all() as { kind: string; request: string }[];
  return rows.map(
    (r) => `${r.kind} ${(JSON.parse(r.request) as { nodes: string[] }).nodes.sort().join(',')}`,
  );
}

/** The end of a job: its restore request recorded, the worker woken; resolves when it is over. */
async function endJob(nodes: string[]): Promise<{ job: number; ops: string[]; alive: string[][] }> {
  const opsBefore = restoreOps().length;
  const callsBefore = fake.calls('oarnodesetting').length;
  job++;
  oar.worker.repo.record({ job, user: 'alice', nodes, production: 'prod-env' }, Date.now());
  oar.worker.wake();
  await oar.worker.idle();
  const alive = fake
    .calls('oarnodesetting')
    .slice(callsBefore)
    .filter((c) => c.includes('Alive'))
    .map((c) => c.filter((_w, i) => c[i - 1] === '-h').sort());
  return { job, ops: restoreOps().slice(opsBefore), alive };
}

const rowsOf = (j: number) =>
  oar.worker.repo
    .list({ job: j })
    .map((r) => `${r.node} ${r.state} ${r.attempts}${r.reason ? ` ${r.reason}` : ''}`);

describe('grouped production restore on a virtual site', () => {
  it('a 3-node job of a plain environment: one reboot operation for its 3 nodes, put back by one run', async () => {
    const nodes = site.nodes.slice(0, 3);
    await deployAs(nodes, { name: 'tiny-x64-base', user: 'deploy' });
    const r = await endJob(nodes);
    expect(rowsOf(r.job)).toEqual(nodes.map((n) => `${n} done 1`));
    expect(r.ops).toEqual([`reboot ${nodes.join(',')}`]);
    const reboot = server.ctx.store.db
      .prepare(
        "SELECT request FROM workflows WHERE user = 'deploy' AND kind = 'reboot' ORDER BY created DESC, rowid DESC LIMIT 1",
      )
      .get() as { request: string };
    expect(JSON.parse(reboot.request)).toMatchObject({ kind: 'recorded_env', checkDestructive: true });
    expect(r.alive).toEqual([nodes]);
    for (const n of nodes) expect(server.ctx.store.nodes.get(n)?.state).toBe('prod_env');
  });

  it('a 3-node job of a destructive environment: one deployment of production on its 3 nodes', async () => {
    const nodes = site.nodes.slice(3, 6);
    await deployAs(nodes, { name: DESTRUCTIVE, user: 'alice' });
    const r = await endJob(nodes);
    expect(rowsOf(r.job)).toEqual(nodes.map((n) => `${n} done 1`));
    expect(r.ops).toEqual([`deploy ${nodes.join(',')}`]);
    expect(r.alive).toEqual([nodes]);
    for (const n of nodes)
      expect(server.ctx.store.nodes.get(n)).toMatchObject({
        state: 'prod_env',
        env: expect.stringMatching(/^prod-env:/),
        destructive: 0,
      });
  });

  it('a mixed job: one reboot for the plain nodes, one deployment for the destructive one beside it, the node whose reboot failed redeployed alone', async () => {
    const plain = site.nodes.slice(0, 3);
    const [, , slow] = plain as [string, string, string];
    const wiped = site.nodes[6] as string;
    await deployAs(plain, { name: 'tiny-x64-base', user: 'deploy' });
    await deployAs([wiped], { name: DESTRUCTIVE, user: 'alice' });
    // Its next 3 boots do nothing: the soft, hard and very hard reboots of the restore's reboot.
    await testbedFault(site.dir, slow, { kind: 'no_reboot', times: 3 });
    const r = await endJob([...plain, wiped]);
    expect(rowsOf(r.job)).toEqual([...plain, wiped].map((n) => `${n} done 1`));
    expect([...r.ops].sort()).toEqual([`deploy ${slow}`, `deploy ${wiped}`, `reboot ${plain.join(',')}`]);
    // The fallback deployment was started after the reboot (for the node it did not restore).
    expect(r.ops.indexOf(`deploy ${slow}`)).toBeGreaterThan(r.ops.indexOf(`reboot ${plain.join(',')}`));
    // The two nodes rebooted onto production went back together.
    expect(r.alive).toContainEqual(plain.slice(0, 2));
    expect(r.alive.flat().sort()).toEqual([...plain, wiped].sort());
    for (const n of [...plain, wiped]) expect(server.ctx.store.nodes.get(n)?.state).toBe('prod_env');
  }, 180_000);

  it('stop during a group restore: its operation is cancelled, every node of the group pending again (attempt given back); a restarted worker restores them together', async () => {
    const nodes = site.nodes.slice(0, 3);
    await deployAs(nodes, { name: 'tiny-x64-base', user: 'deploy' });
    // One node's boot takes a minute: the group's reboot is still running when the worker stops.
    await testbedFault(site.dir, nodes[0] as string, { kind: 'slow_boot', extraMs: 60_000, times: 1 });
    const opsBefore = restoreOps().length;
    job++;
    const stopped = job;
    oar.worker.repo.record({ job: stopped, user: 'alice', nodes, production: 'prod-env' }, Date.now());
    oar.worker.wake();
    const running = () =>
      server.ctx.operations.list().some((o) => o.kind === 'reboot' && o.user === 'deploy');
    while (!running()) await new Promise((res) => setTimeout(res, 50));
    expect(rowsOf(stopped)).toEqual(nodes.map((n) => `${n} running 1`));
    await oar.stop();
    expect(rowsOf(stopped)).toEqual(nodes.map((n) => `${n} pending 0 interrupted by an engine stop`));
    expect(server.ctx.operations.list().filter((o) => o.user === 'deploy')).toEqual([]);
    expect(restoreOps().slice(opsBefore)).toEqual([`reboot ${nodes.join(',')}`]);
    const cancelled = server.ctx.store.db
      .prepare("SELECT status FROM workflows WHERE user = 'deploy' ORDER BY created DESC, rowid DESC LIMIT 1")
      .get() as { status: string };
    expect(cancelled.status).toBe('cancelled');

    // The engine again (a new worker on the same store): the group restored in one operation.
    oar = createOarRestores(server.ctx, services, {
      config: restoreConfig,
      configFile: path.join(dir, 'absent.yaml'),
      pollMs: 100,
    });
    await oar.worker.idle();
    expect(rowsOf(stopped)).toEqual(nodes.map((n) => `${n} done 1`));
    expect(restoreOps().slice(opsBefore + 1)).toEqual([`reboot ${nodes.join(',')}`]);
  }, 180_000);
});
