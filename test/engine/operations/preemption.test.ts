import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_CODES } from '../../../src/common/errors.js';
import { silentLogger } from '../../../src/common/logger.js';
import { loadSiteConfig } from '../../../src/common/site-config.js';
import { FileCache } from '../../../src/engine/environments/file-cache.js';
import { DEPLOY } from '../../../src/engine/operations/deploy-kind.js';
import type { OperationPlan } from '../../../src/engine/operations/operation-kind.js';
import { OperationService } from '../../../src/engine/operations/operation-service.js';
import { deploymentPreemption, wasPreempted } from '../../../src/engine/operations/preemption.js';
import type { EngineContext } from '../../../src/engine/server/context.js';
import { OperationRegistry } from '../../../src/engine/server/operations-registry.js';
import { openStore, storePath } from '../../../src/engine/store/store.js';
import { runWorkflow } from '../../../src/engine/workflow/runner.js';
import type {
  MicroStep,
  MicroStepContext,
  NodeOutcome,
  NodeResult,
} from '../../../src/engine/workflow/types.js';
import { parseForceSteps } from '../../../src/formats/force-steps.js';
import { tableOf } from '../workflow/fake-steps.js';

/**
 * `--force` by a second user's deployment takes nodes from a running one (issue 14, item 9): the
 * pre-empted deployment ends those nodes cancelled, with who took them and KAPLOY_PREEMPTED, at
 * once and without retrying them, in its status, its results and its statistics rows, and leaves
 * their state to the taker; its other nodes finish. The plans are deployments wired as
 * deployment.ts wires them (deploymentPreemption, wasPreempted), their micro-steps scripted.
 */
let dir: string;
let ctx: EngineContext;
let ops: OperationService;
const ac = new AbortController();
const alice = { name: 'alice', admin: false };
const bob = { name: 'bob', admin: false };
const N1 = 'n-1.psite';
const N2 = 'n-2.psite';
const N3 = 'n-3.psite';
// Retries and a fallback: a pre-empted node must use none of them.
const PLAN = parseForceSteps(
  'SetDeploymentEnv|SetDeploymentEnvUntrusted:2:0,SetDeploymentEnvProd:1:0&BroadcastEnv|BroadcastEnvChain:2:0&BootNewEnv|BootNewEnvClassical:2:0',
);

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-preemption-'));
  const configFile = path.join(dir, 'site.yaml');
  writeFileSync(
    configFile,
    `site: psite\ndata_dir: ${dir}/data\nclusters:\n  - name: c1\n    nodes: [{ names: 'n-[1-3].psite', addresses: '127.0.9.[1-3]' }]\n`,
  );
  const config = loadSiteConfig(configFile);
  const store = openStore(storePath(config.dataDir));
  store.nodes.ensure([N1, N2, N3], 'prod_env');
  ctx = {
    config,
    store,
    operations: new OperationRegistry(),
    logger: silentLogger,
    files: new FileCache(config.dataDir),
    signal: ac.signal,
  };
  ops = new OperationService(ctx, [DEPLOY]);
});

afterAll(() => {
  ac.abort();
  ctx?.store.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Call {
  micro: MicroStep;
  nodes: string[];
}

/**
 * A deployment of `nodes` by `user`, wired as deployment.ts does; its micro-steps succeed at once,
 * except `hangAt`, which holds every node until the step is aborted or `release()`d.
 */
function deployment(user: string, nodes: string[], opts: { force?: boolean; hangAt?: MicroStep } = {}) {
  const calls: Call[] = [];
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const hanging = new Promise<void>((r) => (entered = r));
  const step = async (micro: MicroStep, given: readonly string[], sctx: MicroStepContext) => {
    calls.push({ micro, nodes: [...given] });
    if (micro === opts.hangAt) {
      entered();
      await Promise.race([
        released,
        new Promise((r) => sctx.signal.addEventListener('abort', r, { once: true })),
      ]);
    }
    // The taker's reboot breaks the commands on the nodes it took: were that still counted, it
    // would be their outcome, as before.
    return new Map<string, NodeResult>(
      given.map((n) => [
        n,
        ctx.operations.taken.reason(sctx.wid, n) === undefined
          ? { ok: true }
          : { ok: false, reason: 'SSH connection lost' },
      ]),
    );
  };
  const plan: OperationPlan<NodeOutcome> = {
    kind: DEPLOY,
    user,
    nodes,
    request: { nodes, force: opts.force === true },
    env: 'tiny:1',
    md5: 'd41d8cd98f00b204e9800998ecf8427e',
    discarded: [],
    runningState: 'deploying',
    debug: false,
    run: async (r) => {
      const preemption = deploymentPreemption(ctx, r, opts.force ? { user, nodes } : undefined);
      return runWorkflow({
        wid: r.wid,
        nodes,
        plan: PLAN,
        options: { os: 'linux', imageKind: 'tar', key: true },
        steps: preemption.steps(tableOf(step)),
        signal: r.signal,
        logger: r.logger,
        takenBy: preemption.takenBy,
        onEvent: (ev) => r.log.event(ev),
      });
    },
    settle: (o) => {
      if (wasPreempted(o)) return undefined;
      return {
        state: o.status === 'ok' ? 'deployed' : o.status === 'cancelled' ? 'aborted' : 'deploy_failed',
      };
    },
  };
  return { plan, calls, release: () => release(), hanging };
}

const stats = (wid: string) =>
  ctx.store.db.prepare('SELECT hostname, success, error FROM stats WHERE wid = ? ORDER BY hostname').all(wid);

describe('--force pre-emption is named in the pre-empted deployment', () => {
  it('the nodes taken end cancelled "taken by <user>\'s deployment <wid> (--force)", KAPLOY_PREEMPTED; the others finish', async () => {
    // alice deploys n-1 and n-2; her broadcast hangs (a long image transfer).
    const a = deployment('alice', [N1, N2], { hangAt: 'send_environment' });
    const aDone = ops.run(a.plan);
    await a.hanging;
    const aWid = ops.list(alice, DEPLOY)[0]?.wid as string;
    expect(aWid).toMatch(/^D-/);

    // bob forces a deployment on n-2 and n-3 (his own nodes finish at once).
    const b = deployment('bob', [N2, N3], { force: true });
    const bDone = ops.run(b.plan);
    const bWid = ops.list(bob, DEPLOY).find((s) => s.wid !== aWid)?.wid as string;
    const reason = `taken by bob's deployment ${bWid} (--force)`;

    // n-2 leaves alice's deployment at once, while the broadcast still holds n-1.
    await expect.poll(() => ops.status(alice, DEPLOY, aWid).nodes[N2]).toMatchObject({ state: 'cancelled' });
    expect(ops.status(alice, DEPLOY, aWid).nodes[N1]?.state).not.toBe('cancelled');

    const bOut = await bDone;
    expect(bOut.map((o) => [o.node, o.status])).toEqual([
      [N2, 'ok'],
      [N3, 'ok'],
    ]);
    a.release();
    const aOut = await aDone;

    expect(aOut.find((o) => o.node === N1)).toMatchObject({ status: 'ok' });
    expect(aOut.find((o) => o.node === N2)).toMatchObject({
      status: 'cancelled',
      reason,
      code: 'KAPLOY_PREEMPTED',
      macro: 'BroadcastEnv',
      micro: 'send_environment',
    });
    expect(APP_CODES.KAPLOY_PREEMPTED).toBe(106);
    // Not retried, no fallback: n-2 was in one send_environment call only, and in none after it.
    expect(a.calls.filter((c) => c.nodes.includes(N2)).map((c) => c.micro)).not.toContain(
      'check_kernel_files',
    );
    expect(a.calls.filter((c) => c.micro === 'send_environment' && c.nodes.includes(N2))).toHaveLength(1);
    expect(a.calls.filter((c) => c.micro === 'switch_pxe' && c.nodes.includes(N2))).toHaveLength(1);

    // Its status (API outcomes with the code), its log, its statistics rows.
    const st = ops.status(alice, DEPLOY, aWid);
    expect(st.error).toBeUndefined();
    expect(st.status).toBe('done');
    expect(st.outcomes?.find((o) => o.node === N2)).toMatchObject({
      status: 'cancelled',
      reason,
      code: 'KAPLOY_PREEMPTED',
    });
    expect(st.nodes[N2]).toMatchObject({ state: 'cancelled' });
    const log = ops.logs(alice, DEPLOY, aWid, { from: 0, verbosity: 5, debug: false }).lines.join('\n');
    expect(log).toContain(`Deployment cancelled in BroadcastEnvChain-send_environment for ${N2}: ${reason}`);
    expect(log).not.toContain('SSH connection lost');
    const bLog = ops.logs(bob, DEPLOY, bWid, { from: 0, verbosity: 5, debug: false }).lines.join('\n');
    expect(bLog).toContain(`The nodes ${N2} are taken from alice's deployment ${aWid} (--force)`);
    expect(stats(aWid)).toEqual([
      { hostname: N1, success: 1, error: '' },
      { hostname: N2, success: 0, error: expect.stringContaining(reason) },
    ]);
    // n-2 is bob's: alice's end did not write "aborted" over his deployed node.
    expect(ctx.store.nodes.get(N2)).toMatchObject({ state: 'deployed', user: 'bob', wid: bWid });
    expect(ctx.store.nodes.get(N1)).toMatchObject({ state: 'deployed', user: 'alice' });
    // Read back after the live record: the stored results keep the code.
    expect(ops.outcomes(aWid)?.find((o) => o.node === N2)).toMatchObject({ code: 'KAPLOY_PREEMPTED' });
  });

  it('without --force nothing is taken', async () => {
    const a = deployment('alice', [N1, N2], { hangAt: 'reboot' });
    const aDone = ops.run(a.plan);
    await a.hanging;
    const aWid = ops.list(alice, DEPLOY).find((s) => !s.finishedAt)?.wid as string;
    // Same nodes, no --force: alice's deployment keeps them.
    const b = deployment('bob', [N2], {});
    await ops.run(b.plan);
    a.release();
    const out = await aDone;
    expect(out.map((o) => [o.node, o.status, o.code])).toEqual([
      [N1, 'ok', undefined],
      [N2, 'ok', undefined],
    ]);
    expect(ctx.operations.taken.reason(aWid, N2)).toBeUndefined();
  });
});
