import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/logger.js';
import { loadSiteConfig } from '../../../src/common/site-config.js';
import { FileCache } from '../../../src/engine/environments/file-cache.js';
import type { NodeOpOutcome } from '../../../src/engine/nodeops/node-op-outcome.js';
import { POWER, REBOOT } from '../../../src/engine/nodeops/nodeop-kinds.js';
import { DEPLOY } from '../../../src/engine/operations/deploy-kind.js';
import type { OperationPlan, OperationRun } from '../../../src/engine/operations/operation-kind.js';
import { OperationService } from '../../../src/engine/operations/operation-service.js';
import type { EngineContext } from '../../../src/engine/server/context.js';
import { OperationRegistry } from '../../../src/engine/server/operations-registry.js';
import { openStore, storePath } from '../../../src/engine/store/store.js';
import type { NodeOutcome } from '../../../src/engine/workflow/types.js';

/**
 * The one operation lifecycle, whatever the kind, with plans whose per-node work is a function of
 * the test (no node is touched): records, node states, statistics rows, results, the log and its
 * long poll, cancel, visibility, and the settling of operations a crash left unfinished.
 */
let dir: string;
let ctx: EngineContext;
let ops: OperationService;
const ac = new AbortController();
const alice = { name: 'alice', admin: false };
const bob = { name: 'bob', admin: false };
const root = { name: 'root', admin: true };

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-operation-service-'));
  const configFile = path.join(dir, 'site.yaml');
  writeFileSync(
    configFile,
    `site: opsite\ndata_dir: ${dir}/data\nclusters:\n  - name: c1\n    nodes: [{ names: 'n-[1-3].opsite', addresses: '127.0.9.[1-3]' }]\n`,
  );
  const config = loadSiteConfig(configFile);
  const store = openStore(storePath(config.dataDir));
  store.nodes.ensure(['n-1.opsite', 'n-2.opsite', 'n-3.opsite'], 'prod_env');
  ctx = {
    config,
    store,
    operations: new OperationRegistry(),
    logger: silentLogger,
    files: new FileCache(config.dataDir),
    signal: ac.signal,
  };
  ops = new OperationService(ctx, [DEPLOY, REBOOT, POWER]);
});

afterAll(() => {
  ac.abort();
  ctx?.store.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const N1 = 'n-1.opsite';
const N2 = 'n-2.opsite';
const N3 = 'n-3.opsite';

const outcome = (node: string, status: NodeOpOutcome['status'], reason?: string): NodeOpOutcome => ({
  node,
  status,
  step: 'Simple',
  micro: 'reboot',
  ...(reason ? { reason } : {}),
  retries: 0,
  timeoutSec: 10,
  durationMs: 1000,
});

/** A reboot whose per-node work is `run`. */
function reboot(
  nodes: string[],
  run: (r: OperationRun) => Promise<NodeOpOutcome[]>,
  user = 'alice',
): OperationPlan<NodeOpOutcome> {
  return {
    kind: REBOOT,
    user,
    nodes,
    request: { kind: 'simple', nodes, impl: 'Simple' },
    env: '',
    discarded: [],
    runningState: 'rebooting',
    debug: false,
    run,
    settle: (o) => ({ state: o.status === 'ok' ? 'rebooted' : 'reboot_failed' }),
  };
}

const stats = (wid: string) =>
  ctx.store.db
    .prepare('SELECT hostname, operation, step1, success, error FROM stats WHERE wid = ? ORDER BY hostname')
    .all(wid);

/** Resolves once the work started (the gate is what the work waits on). */
function gated() {
  let release!: () => void;
  let started!: (r: OperationRun) => void;
  const gate = new Promise<void>((r) => (release = r));
  const running = new Promise<OperationRun>((r) => (started = r));
  return { gate, release: () => release(), running, started: (r: OperationRun) => started(r) };
}

describe('OperationService', () => {
  it('runs a plan: workflow row, running states, then node states, one stats row per node, results, log', async () => {
    const g = gated();
    const plan = reboot([N1, N2], async (r) => {
      g.started(r);
      r.log.line(1, 'working');
      await g.gate;
      return [outcome(N1, 'ok'), outcome(N2, 'ko', 'no SSH')];
    });
    const done = ops.run(plan);
    const r = await g.running;
    expect(r.wid).toMatch(/^R-[0-9a-f-]{36}$/);
    expect(ctx.store.workflows.get(r.wid)).toMatchObject({
      kind: 'reboot',
      user: 'alice',
      status: 'running',
    });
    expect(ctx.store.nodes.get(N1)).toMatchObject({ state: 'rebooting', user: 'alice', wid: r.wid });
    expect(ctx.operations.get(r.wid)).toMatchObject({ kind: 'reboot', user: 'alice', nodes: [N1, N2] });
    expect(ops.status(alice, REBOOT, r.wid).status).toBe('running');
    expect(ops.list(alice, REBOOT).map((s) => s.wid)).toEqual([r.wid]);
    g.release();
    expect((await done).map((o) => [o.node, o.status])).toEqual([
      [N1, 'ok'],
      [N2, 'ko'],
    ]);
    expect(ctx.operations.get(r.wid)).toBeUndefined();
    expect(ctx.store.workflows.get(r.wid)?.status).toBe('done');
    expect(ctx.store.nodes.get(N1)?.state).toBe('rebooted');
    expect(ctx.store.nodes.get(N2)?.state).toBe('reboot_failed');
    expect(stats(r.wid)).toEqual([
      { hostname: N1, operation: 'reboot', step1: 'Simple', success: 1, error: '' },
      { hostname: N2, operation: 'reboot', step1: 'Simple', success: 0, error: 'Simple-reboot: no SSH' },
    ]);
    const st = ops.status(alice, REBOOT, r.wid);
    expect(st).toMatchObject({ kind: 'reboot', user: 'alice', status: 'done' });
    expect(st.nodes[N2]).toEqual({ macro: 'Simple', micro: 'reboot', state: 'ko', error: 'no SSH' });
    expect(st.outcomes).toEqual([
      { node: N1, status: 'ok', impl: 'Simple', micro: 'reboot' },
      { node: N2, status: 'ko', impl: 'Simple', micro: 'reboot', reason: 'no SSH' },
    ]);
    const log = ops.logs(alice, REBOOT, r.wid, { from: 0, verbosity: 3, debug: false });
    expect(log.done).toBe(true);
    expect(log.lines).toEqual([
      `Reboot #${r.wid} started`,
      'working',
      `Reboot #${r.wid} done (1/2 nodes OK)`,
    ]);
    // Finished reboots are no longer listed (kanodes3 shows what runs).
    expect(ops.list(alice, REBOOT)).toEqual([]);
  });

  it('a node the work returns no outcome for ends KO "no result", with its stats row', async () => {
    const out = await ops.run(reboot([N1, N2], async () => [outcome(N1, 'ok')]));
    expect(out.map((o) => [o.node, o.status, o.reason, o.step])).toEqual([
      [N1, 'ok', undefined, 'Simple'],
      [N2, 'ko', 'no result', 'Simple'],
    ]);
    expect(ctx.store.nodes.get(N2)?.state).toBe('reboot_failed');
  });

  it('work that throws: the operation fails with the error, every node KO with its message', async () => {
    let wid = '';
    const out = await ops.run(
      reboot([N1, N2], async (r) => {
        wid = r.wid;
        throw new Error('the PXE directory is gone');
      }),
    );
    expect(out.map((o) => [o.status, o.reason])).toEqual([
      ['ko', 'the PXE directory is gone'],
      ['ko', 'the PXE directory is gone'],
    ]);
    expect(ops.status(alice, REBOOT, wid)).toMatchObject({
      status: 'failed',
      error: { code: 'KAPLOY_INTERNAL', message: 'the PXE directory is gone' },
    });
    expect(ctx.store.workflows.get(wid)?.status).toBe('failed');
    expect(stats(wid)).toHaveLength(2);
    expect(ops.logs(alice, REBOOT, wid, { from: 0, verbosity: 0, debug: false }).lines).toContain(
      `Reboot #${wid} failed: the PXE directory is gone`,
    );
  });

  it('an end that cannot be recorded: the operation fails, its readers still hear the end, the next start settles it', async () => {
    let wid = '';
    const plan = reboot([N1], async (r) => {
      wid = r.wid;
      return [outcome(N1, 'ok')];
    });
    const out = await ops.run({
      ...plan,
      settle: () => {
        throw new Error('disk full');
      },
    });
    expect(out.map((o) => o.status)).toEqual(['ok']);
    expect(ops.status(alice, REBOOT, wid)).toMatchObject({
      status: 'failed',
      error: {
        code: 'KAPLOY_INTERNAL',
        message: 'the end of the operation could not be recorded: disk full',
      },
      outcomes: [{ node: N1, status: 'ok' }],
    });
    const log = ops.logs(alice, REBOOT, wid, { from: 0, verbosity: 0, debug: false });
    expect(log.done).toBe(true);
    expect(log.lines).toContain(
      `Reboot #${wid} failed: the end of the operation could not be recorded: disk full`,
    );
    expect(ctx.store.workflows.get(wid)?.status).toBe('running');
    expect(stats(wid)).toEqual([]);
    new OperationService(ctx, [REBOOT]);
    expect(ctx.store.workflows.get(wid)?.status).toBe('failed');
    expect(stats(wid)).toMatchObject([{ hostname: N1, success: 0 }]);
  });

  it('cancel: only the owner (or an admin) sees and cancels it; the nodes left end cancelled', async () => {
    const g = gated();
    const done = ops.run(
      reboot([N1, N2], async (r) => {
        g.started(r);
        await new Promise((res) => r.signal.addEventListener('abort', res, { once: true }));
        return [outcome(N1, 'ok')];
      }),
    );
    const { wid } = await g.running;
    for (const f of [
      () => ops.status(bob, REBOOT, wid),
      () => ops.cancel(bob, REBOOT, wid),
      () => ops.logs(bob, REBOOT, wid, { from: 0, verbosity: 3, debug: false }),
      // The id of a reboot is no deployment.
      () => ops.status(alice, DEPLOY, wid),
    ]) {
      expect(f).toThrow(expect.objectContaining({ code: 'KAPLOY_INVALID_WORKFLOW_ID' }));
    }
    expect(ops.list(bob, REBOOT)).toEqual([]);
    expect(ops.status(root, REBOOT, wid).status).toBe('running');
    ops.cancel(alice, REBOOT, wid);
    const out = await done;
    expect(out.map((o) => [o.node, o.status])).toEqual([
      [N1, 'ok'],
      [N2, 'cancelled'],
    ]);
    expect(ops.status(alice, REBOOT, wid).status).toBe('cancelled');
    expect(ops.logs(alice, REBOOT, wid, { from: 0, verbosity: 0, debug: false }).lines).toContain(
      `Reboot #${wid} cancelled by alice`,
    );
    // Cancelling a finished one changes nothing.
    ops.cancel(alice, REBOOT, wid);
    expect(ops.status(alice, REBOOT, wid).status).toBe('cancelled');
  });

  it('run(plan, signal): aborting cancels it; an aborted signal starts nothing', async () => {
    const sig = new AbortController();
    const g = gated();
    const done = ops.run(
      reboot([N3], async (r) => {
        g.started(r);
        await new Promise((res) => r.signal.addEventListener('abort', res, { once: true }));
        return [];
      }),
      sig.signal,
    );
    const { wid } = await g.running;
    sig.abort(new Error('job ended'));
    expect((await done).map((o) => o.status)).toEqual(['cancelled']);
    expect(ctx.store.workflows.get(wid)?.status).toBe('cancelled');
    expect(stats(wid)).toMatchObject([{ hostname: N3, success: 0 }]);
    const before = ctx.store.workflows.list().length;
    await expect(
      ops.run(
        reboot([N3], async () => []),
        sig.signal,
      ),
    ).rejects.toThrow('job ended');
    expect(ctx.store.workflows.list().length).toBe(before);
  });

  it('the registry cancels it (rights revoked, shutdown)', async () => {
    const g = gated();
    const done = ops.run(
      reboot([N1], async (r) => {
        g.started(r);
        await new Promise((res) => r.signal.addEventListener('abort', res, { once: true }));
        return [];
      }),
    );
    const { wid } = await g.running;
    expect(ctx.operations.cancelFor('alice', [N1], 'rights revoked')).toEqual([wid]);
    expect((await done).map((o) => o.status)).toEqual(['cancelled']);
    expect(ops.logs(alice, REBOOT, wid, { from: 0, verbosity: 0, debug: false }).lines).toContain(
      `Reboot #${wid} cancelled: rights revoked`,
    );
  });

  it('the long poll answers at the next line and at the end', async () => {
    const g = gated();
    const done = ops.run(
      reboot([N1], async (r) => {
        g.started(r);
        await g.gate;
        r.log.debugLine(N1, 'only with -d');
        return [outcome(N1, 'ok')];
      }),
    );
    const { wid } = await g.running;
    const first = ops.logs(alice, REBOOT, wid, { from: 0, verbosity: 3, debug: false });
    const waiting = ops.logsWait(
      alice,
      REBOOT,
      wid,
      { from: first.next, verbosity: 3, debug: false, waitMs: 10_000 },
      new AbortController().signal,
    );
    setTimeout(g.release, 30);
    const t0 = Date.now();
    expect(await waiting).toEqual({
      lines: [`Reboot #${wid} done (1/1 nodes OK)`],
      next: expect.any(Number),
      done: true,
    });
    expect(Date.now() - t0).toBeLessThan(5_000);
    await done;
    expect(ops.logs(alice, REBOOT, wid, { from: first.next, verbosity: 0, debug: true }).lines).toEqual([
      `  [${N1}] only with -d`,
      `Reboot #${wid} done (1/1 nodes OK)`,
    ]);
  });

  it('after a restart: the status and outcomes from the store, no log; deployments are listed once finished', async () => {
    const out = await ops.run(reboot([N1], async () => [outcome(N1, 'ok')]));
    expect(out).toHaveLength(1);
    const wid = ctx.store.workflows.list({ kind: 'reboot' }).at(-1)?.wid as string;
    const deployed: NodeOutcome = { node: N2, status: 'ok', attempts: 1, durationMs: 5, steps: {} };
    await ops.run<NodeOutcome>({
      kind: DEPLOY,
      user: 'alice',
      nodes: [N2],
      request: { nodes: [N2] },
      env: 'tiny:1',
      md5: 'd41d8cd98f00b204e9800998ecf8427e',
      discarded: [N3],
      warnings: ['old description'],
      runningState: 'deploying',
      debug: false,
      run: async () => [deployed],
      settle: () => ({ state: 'deployed' }),
    });
    const [dep] = ops.list(alice, DEPLOY).slice(-1);
    expect(dep).toMatchObject({ kind: 'deploy', status: 'done', environment: 'tiny:1' });
    const depWid = dep?.wid as string;
    expect(ops.logs(alice, DEPLOY, depWid, { from: 0, verbosity: 1, debug: false }).lines).toEqual([
      `Deployment #${depWid} started`,
      'Warning: old description',
      `The nodes ${N3} are already involved in deployment, let's discard them`,
      `Deployment #${depWid} done (1/1 nodes OK)`,
    ]);
    // Nodes held at a breakpoint are said to be there, not counted as failed.
    const held: NodeOutcome = {
      node: N2,
      status: 'breakpoint',
      attempts: 2,
      durationMs: 5,
      steps: {},
      macro: 'BroadcastEnv',
      impl: 'BroadcastEnvKastafior',
      micro: 'manage_user_post_install',
    };
    await ops.run<NodeOutcome>({
      kind: DEPLOY,
      user: 'alice',
      nodes: [N2],
      request: { nodes: [N2] },
      env: 'tiny:1',
      md5: 'd41d8cd98f00b204e9800998ecf8427e',
      discarded: [],
      warnings: [],
      runningState: 'deploying',
      debug: false,
      run: async () => [held],
      settle: () => ({ state: 'deployed' }),
    });
    const brkWid = ops.list(alice, DEPLOY).at(-1)?.wid as string;
    expect(ops.logs(alice, DEPLOY, brkWid, { from: 0, verbosity: 0, debug: false }).lines.at(-1)).toBe(
      `Deployment #${brkWid} stopped at its breakpoint before BroadcastEnvKastafior-manage_user_post_install (1/1 nodes stopped, 0 OK, 0 KO); kadeploy3 --resume ${brkWid} goes on`,
    );
    const restarted = new OperationService(ctx, [DEPLOY, REBOOT, POWER]);
    expect(restarted.status(alice, REBOOT, wid)).toMatchObject({
      wid,
      kind: 'reboot',
      status: 'done',
      nodes: { [N1]: { state: 'ok' } },
      outcomes: [{ node: N1, status: 'ok', impl: 'Simple', micro: 'reboot' }],
    });
    expect(restarted.logs(alice, REBOOT, wid, { from: 4, verbosity: 3, debug: false })).toEqual({
      lines: [],
      next: 4,
      done: true,
    });
    expect(restarted.outcomes(depWid)).toEqual([deployed]);
    expect(restarted.list(alice, DEPLOY)).toEqual([]);
    expect(() => restarted.status(bob, REBOOT, wid)).toThrow(
      expect.objectContaining({ code: 'KAPLOY_INVALID_WORKFLOW_ID' }),
    );
  });
});

describe('operations an engine crash left unfinished', () => {
  it('end failed at start, whatever the kind: node states (still theirs), stats rows, stored outcomes', () => {
    const D = 'D-00000000-0000-4000-8000-00000000000d';
    const R = 'R-00000000-0000-4000-8000-000000000001';
    const P = 'P-00000000-0000-4000-8000-000000000002';
    const BAD = 'R-00000000-0000-4000-8000-000000000003';
    const { store } = ctx;
    store.workflows.insert({
      wid: D,
      kind: 'deploy',
      user: 'alice',
      status: 'running',
      request: { nodes: [N1, N2] },
    });
    store.workflows.insert({
      wid: R,
      kind: 'reboot',
      user: 'alice',
      status: 'running',
      request: { nodes: [N3], impl: 'DeployEnv' },
    });
    store.workflows.insert({
      wid: P,
      kind: 'power',
      user: 'bob',
      status: 'running',
      request: { nodes: [N3] },
    });
    store.db
      .prepare(
        "INSERT INTO workflows (wid, kind, user, status, request, created) VALUES (?, 'reboot', 'alice', 'running', '{not json', 0)",
      )
      .run(BAD);
    store.nodes.update(N1, { state: 'deploying', wid: D });
    // N2 went on to another operation since: its state is not the crashed one's to settle.
    store.nodes.update(N2, { state: 'rebooted', wid: 'R-other' });
    store.nodes.update(N3, { state: 'powering', wid: P });
    new OperationService(ctx, [DEPLOY, REBOOT, POWER]);
    for (const w of [D, R, P, BAD]) expect([w, store.workflows.get(w)?.status]).toEqual([w, 'failed']);
    expect(store.nodes.get(N1)?.state).toBe('deploy_failed');
    expect(store.nodes.get(N2)?.state).toBe('rebooted');
    expect(store.nodes.get(N3)?.state).toBe('power_failed');
    expect(stats(D)).toEqual([
      {
        hostname: N1,
        operation: 'deploy',
        step1: '',
        success: 0,
        error: '-: the engine stopped during the deployment',
      },
      {
        hostname: N2,
        operation: 'deploy',
        step1: '',
        success: 0,
        error: '-: the engine stopped during the deployment',
      },
    ]);
    expect(stats(R)).toEqual([
      {
        hostname: N3,
        operation: 'reboot',
        step1: 'DeployEnv',
        success: 0,
        error: 'DeployEnv: the engine stopped during the reboot operation',
      },
    ]);
    expect(stats(P)).toEqual([
      {
        hostname: N3,
        operation: 'power',
        step1: 'Status',
        success: 0,
        error: 'Status: the engine stopped during the power operation',
      },
    ]);
    expect(stats(BAD)).toEqual([]);
    expect(ops.status(alice, DEPLOY, D)).toMatchObject({
      status: 'failed',
      error: { code: 'KAPLOY_INTERNAL', message: 'the engine stopped during the deployment' },
      outcomes: [
        { node: N1, status: 'ko', reason: 'the engine stopped during the deployment' },
        { node: N2, status: 'ko', reason: 'the engine stopped during the deployment' },
      ],
    });
  });

  it('one stopped while preparing (its image download) ends failed with its outcomes, no stats row, nodes as they were', () => {
    const D = 'D-00000000-0000-4000-8000-0000000000ee';
    const { store } = ctx;
    store.workflows.insert({
      wid: D,
      kind: 'deploy',
      user: 'alice',
      status: 'preparing',
      request: { nodes: [N1] },
    });
    store.nodes.update(N1, { state: 'prod_env', wid: 'D-before' });
    new OperationService(ctx, [DEPLOY, REBOOT, POWER]);
    expect(store.workflows.get(D)?.status).toBe('failed');
    expect(store.nodes.get(N1)?.state).toBe('prod_env');
    expect(stats(D)).toEqual([]);
    expect(ops.status(alice, DEPLOY, D)).toMatchObject({
      status: 'failed',
      error: { code: 'KAPLOY_INTERNAL', message: 'the engine stopped during the deployment' },
      outcomes: [{ node: N1, status: 'ko', reason: 'the engine stopped during the deployment' }],
    });
  });
});
