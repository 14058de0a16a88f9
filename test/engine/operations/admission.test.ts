import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/logger.js';
import { loadSiteConfig } from '../../../src/common/site-config.js';
import { FileCache } from '../../../src/engine/environments/file-cache.js';
import { EngineMetrics } from '../../../src/engine/metrics/engine-metrics.js';
import { POWER, REBOOT } from '../../../src/engine/nodeops/nodeop-kinds.js';
import { DEPLOY } from '../../../src/engine/operations/deploy-kind.js';
import type { OperationPlan, OperationRun } from '../../../src/engine/operations/operation-kind.js';
import { OperationService } from '../../../src/engine/operations/operation-service.js';
import type { EngineContext } from '../../../src/engine/server/context.js';
import { OperationRegistry } from '../../../src/engine/server/operations-registry.js';
import { openStore, storePath } from '../../../src/engine/store/store.js';
import type { NodeOutcome } from '../../../src/engine/workflow/types.js';

/**
 * Admission control in the operation service, with deployments whose per-node work is the test's
 * (no node is reached): with the site's bound reached, an operation whose checks passed waits in
 * order, `queued` with its position, touching nothing, until the ones before it end; cancelled or
 * stopped by a crash while it waits, it ends with no node touched.
 */
const alice = { name: 'alice', admin: false };
const bob = { name: 'bob', admin: false };
const NODES = ['n-1.adsite', 'n-2.adsite', 'n-3.adsite', 'n-4.adsite', 'n-5.adsite'];
const [N1, N2, N3, N4, N5] = NODES as [string, string, string, string, string];

interface Site {
  ctx: EngineContext;
  ops: OperationService;
  metrics: EngineMetrics;
  stop: AbortController;
}
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A site of five nodes whose configuration file has `admission` (YAML lines, indented). */
function site(admission: string): Site {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-admission-'));
  const stop = new AbortController();
  const configFile = path.join(dir, 'site.yaml');
  writeFileSync(
    configFile,
    `site: adsite\ndata_dir: ${dir}/data\n${admission ? `admission:\n${admission}\n` : ''}clusters:\n  - name: c1\n    nodes: [{ names: 'n-[1-5].adsite', addresses: '127.0.9.[1-5]' }]\n`,
  );
  let config: ReturnType<typeof loadSiteConfig>;
  try {
    config = loadSiteConfig(configFile);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const store = openStore(storePath(config.dataDir));
  store.nodes.ensure(NODES, 'prod_env');
  const metrics = new EngineMetrics();
  const ctx: EngineContext = {
    config,
    store,
    operations: new OperationRegistry(),
    logger: silentLogger,
    files: new FileCache(config.dataDir),
    signal: stop.signal,
    metrics,
  };
  cleanups.push(() => {
    stop.abort();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { ctx, ops: new OperationService(ctx, [DEPLOY, REBOOT, POWER]), metrics, stop };
}

/** A deployment whose nodes' work waits for its gate, then ends OK; `started` tells it began. */
function deployment(nodes: string[], user = 'alice') {
  let open!: () => void;
  let began!: (r: OperationRun) => void;
  const gate = new Promise<void>((r) => (open = r));
  const started = new Promise<OperationRun>((r) => (began = r));
  let runs = 0;
  const plan: OperationPlan<NodeOutcome> = {
    kind: DEPLOY,
    user,
    nodes,
    request: { nodes },
    env: 'tiny:1',
    md5: 'd41d8cd98f00b204e9800998ecf8427e',
    discarded: [],
    runningState: 'deploying',
    debug: false,
    run: async (r) => {
      runs++;
      began(r);
      // Ends at its gate, or when it is stopped (a cancel, the engine's shutdown).
      await Promise.race([gate, new Promise((r2) => r.signal.addEventListener('abort', r2))]);
      return nodes.map(
        (node): NodeOutcome => ({ node, status: 'ok', attempts: 1, durationMs: 1, steps: {} }),
      );
    },
    settle: () => ({ state: 'deployed' }),
  };
  return { plan, release: () => open(), started, runs: () => runs };
}

/** Starts the plan as a request does: through its checks (here none), then admission. */
async function submit(s: Site, d: ReturnType<typeof deployment>): Promise<string> {
  const { wid } = await s.ops.prepare(DEPLOY, d.plan.user, async () => d.plan, new AbortController().signal);
  return wid;
}

const root = { name: 'root', admin: true };
const log = (s: Site, wid: string, verbosity = 1) =>
  s.ops.logs(root, DEPLOY, wid, { from: 0, verbosity, debug: false }).lines;
const stats = (s: Site, wid: string) =>
  s.ctx.store.db.prepare('SELECT hostname FROM stats WHERE wid = ?').all(wid);
/** The value of a gauge of the engine's registry for these labels. */
async function gauge(s: Site, name: string, labels: Record<string, string>): Promise<number> {
  const m = await s.metrics.registry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l));
  return v?.value ?? 0;
}

describe('admission control', () => {
  it('with max_operations 1, a second deployment queues (position 1), touching nothing, and starts when the first ends', async () => {
    const s = site('  max_operations: 1');
    const a = deployment([N1]);
    const b = deployment([N2], 'bob');
    const wa = await submit(s, a);
    await a.started;
    const wb = await submit(s, b);
    const st = s.ops.status(bob, DEPLOY, wb);
    expect(st).toMatchObject({ status: 'queued', queuePosition: 1, environment: 'tiny:1' });
    expect(st.nodes).toEqual({ [N2]: { state: 'waiting' } });
    expect(s.ops.queuePosition(wb)).toBe(1);
    expect(s.ops.queuePosition(wa)).toBeUndefined();
    expect(s.ops.status(alice, DEPLOY, wa)).not.toHaveProperty('queuePosition');
    // Nothing of its nodes touched while it waits; listed and registered (a revocation cancels it).
    expect(s.ctx.store.nodes.get(N2)).toMatchObject({ state: 'prod_env' });
    expect(s.ctx.store.workflows.get(wb)?.status).toBe('queued');
    expect(s.ctx.operations.get(wb)).toMatchObject({ kind: 'deploy', user: 'bob', nodes: [N2] });
    expect(s.ops.list(bob, DEPLOY).map((o) => [o.wid, o.status])).toEqual([[wb, 'queued']]);
    expect(b.runs()).toBe(0);
    expect(s.ops.logs(bob, DEPLOY, wb, { from: 0, verbosity: 0, debug: false }).lines).toEqual([
      `Deployment #${wb} started`,
      `Deployment #${wb} queued (position 1): 1 operation(s) with 1 node(s) in flight, the site admits 1 operations, no bound on nodes`,
    ]);
    expect(await gauge(s, 'kaploy_operations', { kind: 'deploy', phase: 'queued' })).toBe(1);
    expect(await gauge(s, 'kaploy_nodes_queued', { window: 'admission' })).toBe(1);

    a.release();
    const r = await b.started;
    expect(r.wid).toBe(wb);
    expect(s.ops.status(bob, DEPLOY, wb)).toMatchObject({ status: 'running' });
    expect(s.ops.status(bob, DEPLOY, wb)).not.toHaveProperty('queuePosition');
    expect(s.ctx.store.workflows.get(wb)?.status).toBe('running');
    expect(s.ctx.store.nodes.get(N2)).toMatchObject({ state: 'deploying', wid: wb });
    expect(s.ops.status(alice, DEPLOY, wa).status).toBe('done');
    expect(log(s, wb, 0)[2]).toMatch(
      new RegExp(`^Deployment #${wb} leaves the queue after \\d+ s and starts$`),
    );
    expect(await gauge(s, 'kaploy_operations', { kind: 'deploy', phase: 'queued' })).toBe(0);
    expect(await gauge(s, 'kaploy_nodes_queued', { window: 'admission' })).toBe(0);
    b.release();
    await s.ops.idle();
    expect(s.ops.status(bob, DEPLOY, wb)).toMatchObject({
      status: 'done',
      outcomes: [{ node: N2, status: 'ok' }],
    });
    expect(stats(s, wb)).toEqual([{ hostname: N2 }]);
  });

  it('keeps the order of three queued ones, their positions moving up one by one', async () => {
    const s = site('  max_operations: 1');
    const first = deployment([N1]);
    const queued = [deployment([N2]), deployment([N3]), deployment([N4])];
    await submit(s, first);
    await first.started;
    const wids: string[] = [];
    for (const d of queued) wids.push(await submit(s, d));
    expect(wids.map((w) => s.ops.status(alice, DEPLOY, w).queuePosition)).toEqual([1, 2, 3]);
    const order: string[] = [];
    for (const [i, d] of queued.entries()) void d.started.then((r) => order.push(`${i}:${r.wid}`));

    first.release();
    await queued[0]?.started;
    expect(wids.map((w) => s.ops.status(alice, DEPLOY, w).status)).toEqual(['running', 'queued', 'queued']);
    expect(wids.slice(1).map((w) => s.ops.status(alice, DEPLOY, w).queuePosition)).toEqual([1, 2]);
    expect(log(s, wids[2] as string).at(-1)).toBe(`Deployment #${wids[2]} now at position 2 in the queue`);
    queued[0]?.release();
    await queued[1]?.started;
    expect(s.ops.status(alice, DEPLOY, wids[2] as string).queuePosition).toBe(1);
    expect(queued[2]?.runs()).toBe(0);
    queued[1]?.release();
    await queued[2]?.started;
    queued[2]?.release();
    await s.ops.idle();
    expect(order).toEqual(wids.map((w, i) => `${i}:${w}`));
    expect(wids.map((w) => s.ops.status(alice, DEPLOY, w).status)).toEqual(['done', 'done', 'done']);
  });

  it('max_nodes bounds the nodes in flight: one that fits starts, one that does not waits, and later small ones wait behind it', async () => {
    const s = site('  max_nodes: 3');
    const a = deployment([N1, N2]);
    const b = deployment([N3, N4]); // 2 + 2 > 3
    const c = deployment([N5]); // would fit (2 + 1), but comes after b: order is kept
    const wa = await submit(s, a);
    await a.started;
    const wb = await submit(s, b);
    const wc = await submit(s, c);
    expect([wa, wb, wc].map((w) => s.ops.status(alice, DEPLOY, w).status)).toEqual([
      'running',
      'queued',
      'queued',
    ]);
    expect(s.ops.status(alice, DEPLOY, wc).queuePosition).toBe(2);
    a.release();
    await b.started;
    // b's 2 nodes and c's 1 fit together in 3: both start.
    await c.started;
    expect(s.ops.status(alice, DEPLOY, wc).status).toBe('running');
    b.release();
    c.release();
    await s.ops.idle();
    expect([wa, wb, wc].map((w) => s.ops.status(alice, DEPLOY, w).status)).toEqual(['done', 'done', 'done']);
  });

  it('one larger than max_nodes waits for nothing else to run, then runs alone; the next waits for it', async () => {
    const s = site('  max_nodes: 2');
    const small = deployment([N1]);
    const big = deployment([N2, N3, N4]);
    const after = deployment([N5]);
    await submit(s, small);
    await small.started;
    const wbig = await submit(s, big);
    const wafter = await submit(s, after);
    expect(log(s, wbig, 0).slice(1)).toEqual([
      `Deployment #${wbig} queued (position 1): 1 operation(s) with 1 node(s) in flight, the site admits no bound on operations, 2 nodes`,
      `Deployment #${wbig} has 3 nodes, more than the site's 2: it will run alone`,
    ]);
    small.release();
    await big.started;
    expect(s.ops.status(alice, DEPLOY, wafter)).toMatchObject({ status: 'queued', queuePosition: 1 });
    expect(after.runs()).toBe(0);
    big.release();
    await after.started;
    after.release();
    await s.ops.idle();
    expect(s.ops.status(alice, DEPLOY, wbig)).toMatchObject({ status: 'done' });
    expect(s.ops.status(alice, DEPLOY, wafter)).toMatchObject({ status: 'done' });
  });

  it('alone on an idle site, one larger than max_nodes starts at once', async () => {
    const s = site('  max_nodes: 2\n  max_operations: 1');
    const big = deployment([N1, N2, N3]);
    const wid = await submit(s, big);
    await big.started;
    expect(s.ops.status(alice, DEPLOY, wid).status).toBe('running');
    big.release();
    await s.ops.idle();
  });

  it('cancelling a queued one removes it from the queue: cancelled outcomes, nothing touched, no stats row; the next moves up', async () => {
    const s = site('  max_operations: 1');
    const a = deployment([N1]);
    const b = deployment([N2]);
    const c = deployment([N3]);
    await submit(s, a);
    await a.started;
    const wb = await submit(s, b);
    const wc = await submit(s, c);
    // Another user may not cancel it.
    expect(() => s.ops.cancel(bob, DEPLOY, wb)).toThrow(
      expect.objectContaining({ code: 'KAPLOY_INVALID_WORKFLOW_ID' }),
    );
    s.ops.cancel(alice, DEPLOY, wb);
    // Its end is written by the next microtasks.
    await new Promise((r) => setImmediate(r));
    expect(s.ops.status(alice, DEPLOY, wb)).toMatchObject({
      status: 'cancelled',
      outcomes: [{ node: N2, status: 'cancelled', reason: 'cancelled by alice' }],
    });
    expect(s.ops.queuePosition(wb)).toBeUndefined();
    expect(s.ops.status(alice, DEPLOY, wc)).toMatchObject({ status: 'queued', queuePosition: 1 });
    expect(log(s, wc).at(-1)).toBe(`Deployment #${wc} now at position 1 in the queue`);
    expect(s.ctx.store.nodes.get(N2)).toMatchObject({ state: 'prod_env' });
    expect(s.ctx.store.workflows.get(wb)?.status).toBe('cancelled');
    expect(s.ctx.operations.get(wb)).toBeUndefined();
    expect(stats(s, wb)).toEqual([]);
    expect(b.runs()).toBe(0);
    expect(await gauge(s, 'kaploy_operations', { kind: 'deploy', phase: 'queued' })).toBe(1);
    a.release();
    await c.started;
    c.release();
    await s.ops.idle();
    expect(b.runs()).toBe(0);
    expect(s.ops.status(alice, DEPLOY, wc).status).toBe('done');
  });

  it('the engine stopping while one is queued cancels it untouched; a crash leaves it settled as never touched', async () => {
    const s = site('  max_operations: 1');
    const a = deployment([N1]);
    const b = deployment([N2]);
    const wa = await submit(s, a);
    await a.started;
    const wb = await submit(s, b);
    // A crash: the next engine reads the store while this one's memory is lost.
    const next = new OperationService(s.ctx, [DEPLOY, REBOOT, POWER]);
    expect(s.ctx.store.workflows.get(wb)?.status).toBe('failed');
    expect(stats(s, wb)).toEqual([]);
    expect(s.ctx.store.nodes.get(N2)?.state).toBe('prod_env');
    expect(next.status(alice, DEPLOY, wb)).toMatchObject({
      status: 'failed',
      outcomes: [{ node: N2, status: 'ko', reason: 'the engine stopped during the deployment' }],
    });
    // The running one was touched: its node is failed, with its statistics row.
    expect(s.ctx.store.nodes.get(N1)?.state).toBe('deploy_failed');
    expect(stats(s, wa)).toEqual([{ hostname: N1 }]);

    // A shutdown (the other engine, still live in this test): the queued one ends cancelled untouched.
    const c = site('  max_operations: 1');
    const x = deployment([N1]);
    const y = deployment([N2]);
    await submit(c, x);
    await x.started;
    const wy = await submit(c, y);
    c.stop.abort();
    x.release();
    await c.ops.idle();
    expect(c.ops.status(alice, DEPLOY, wy)).toMatchObject({
      status: 'cancelled',
      outcomes: [{ node: N2, status: 'cancelled', reason: 'server shutting down' }],
    });
    expect(y.runs()).toBe(0);
    expect(c.ctx.store.nodes.get(N2)?.state).toBe('prod_env');
    expect(stats(c, wy)).toEqual([]);
    s.stop.abort();
    await s.ops.idle();
  });

  it('a preparing deployment whose checks pass while the bound is reached queues too', async () => {
    const s = site('  max_operations: 1');
    const a = deployment([N1]);
    const b = deployment([N2]);
    await submit(s, a);
    await a.started;
    let checksGo!: () => void;
    const checksMay = new Promise<void>((r) => (checksGo = r));
    const { wid } = await s.ops.prepare(
      DEPLOY,
      'alice',
      async (p) => {
        p.detach({ nodes: [N2, N3], request: { nodes: [N2, N3] }, debug: false });
        await checksMay;
        return b.plan; // N3 dropped by the checks
      },
      new AbortController().signal,
    );
    expect(s.ops.status(alice, DEPLOY, wid).status).toBe('preparing');
    checksGo();
    await new Promise((r) => setImmediate(r));
    expect(s.ops.status(alice, DEPLOY, wid)).toMatchObject({
      status: 'queued',
      queuePosition: 1,
      nodes: { [N2]: { state: 'waiting' } },
    });
    expect(s.ctx.operations.get(wid)?.nodes).toEqual([N2]);
    expect(s.ctx.store.workflows.get(wid)?.status).toBe('queued');
    a.release();
    expect((await b.started).wid).toBe(wid);
    b.release();
    await s.ops.idle();
    expect(s.ops.status(alice, DEPLOY, wid)).toMatchObject({
      status: 'done',
      outcomes: [{ node: N2, status: 'ok' }],
    });
  });

  it('without an admission section nothing is bounded; the keys are checked where the file is read', async () => {
    const s = site('');
    expect(s.ctx.config.admission).toEqual({ maxOperations: 0, maxNodes: 0 });
    const ds = [deployment([N1]), deployment([N2]), deployment([N3])];
    for (const d of ds) await submit(s, d);
    await Promise.all(ds.map((d) => d.started));
    for (const d of ds) d.release();
    await s.ops.idle();
    expect(() => site('  max_operations: -1')).toThrow(/admission\.max_operations/);
    expect(() => site('  max_nodes: lots')).toThrow(/admission\.max_nodes/);
    expect(() => site('  max_queue: 3')).toThrow(/max_queue/);
  });
});
