import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../src/common/logger.js';
import { FileCache } from '../../../src/engine/environments/file-cache.js';
import type { NodeStepDeps } from '../../../src/engine/nodeops/node-step-env.js';
import { POWER, REBOOT } from '../../../src/engine/nodeops/nodeop-kinds.js';
import { powerResumer } from '../../../src/engine/nodeops/power-recovery.js';
import { planPower } from '../../../src/engine/nodeops/power-service.js';
import { DEPLOY } from '../../../src/engine/operations/deploy-kind.js';
import type { OperationPlan } from '../../../src/engine/operations/operation-kind.js';
import type { Resumer } from '../../../src/engine/operations/operation-recovery.js';
import { OperationService } from '../../../src/engine/operations/operation-service.js';
import type { EngineContext } from '../../../src/engine/server/context.js';
import { OperationRegistry } from '../../../src/engine/server/operations-registry.js';
import type { NodeShell } from '../../../src/engine/steps/deployment-spec.js';
import { openStore, storePath } from '../../../src/engine/store/store.js';
import type { NodeOutcome } from '../../../src/engine/workflow/types.js';
import { makeSite, type TestSite } from '../helpers/site.js';

/**
 * The durable admission queue: an engine stopped (its store kept, as a kill -9 leaves it) while
 * one power operation runs and four operations wait behind it (max_operations 1), three power
 * operations and one deployment, then a new engine on the same store. The running one goes on; the
 * four are queued again under their ids, in their order and at their positions, across kinds; a
 * cancel still takes one out; the others start one after the other. Each operation's work appends
 * its node to a file, so the order they ran in is read back; a power off waits while a flag file
 * exists.
 */
let site: TestSite;
let aux: string;
const N = ['node-1.testsite', 'node-2.testsite', 'node-3.testsite', 'node-4.testsite', 'node-5.testsite'];
const [N1, N2, N3, N4, N5] = N as [string, string, string, string, string];
const alice = { name: 'alice', admin: false };

beforeEach(() => {
  aux = mkdtempSync(path.join(os.tmpdir(), 'kaploy-durable-queue-'));
  const calls = path.join(aux, 'calls');
  const hang = path.join(aux, 'hang');
  site = makeSite({
    users: ['alice'],
    nodes: 5,
    admission: { max_operations: 1 },
    commands: {
      power_off: {
        soft: {
          argv: ['sh', '-c', `echo {node} >> ${calls}; while test -e ${hang}; do sleep 0.05; done; exit 0`],
        },
      },
    },
  });
  const store = openStore(storePath(site.config.dataDir));
  try {
    store.nodes.ensure(N, 'prod_env');
    store.rights.add(N.map((node) => ({ user: 'alice', node, partition: '*' })));
  } finally {
    store.close();
  }
});

afterEach(() => {
  site?.cleanup();
  if (aux) rmSync(aux, { recursive: true, force: true });
});

/** A deployment whose work is the test's: it appends its nodes to the calls file, all OK. */
function deployment(nodes: string[]): OperationPlan<NodeOutcome> {
  return {
    kind: DEPLOY,
    user: 'alice',
    nodes,
    request: { nodes },
    env: 'tiny:1',
    md5: 'd41d8cd98f00b204e9800998ecf8427e',
    discarded: [],
    runningState: 'deploying',
    debug: false,
    run: async () => {
      for (const n of nodes) appendFileSync(path.join(aux, 'calls'), `${n}\n`);
      return nodes.map(
        (node): NodeOutcome => ({ node, status: 'ok', attempts: 1, durationMs: 1, steps: {} }),
      );
    },
    settle: () => ({ state: 'deployed' }),
  };
}

function engine() {
  const ac = new AbortController();
  const store = openStore(storePath(site.config.dataDir));
  const ctx: EngineContext = {
    config: site.config,
    store,
    operations: new OperationRegistry(),
    logger: silentLogger,
    files: new FileCache(site.config.dataDir),
    signal: ac.signal,
  };
  const deps: NodeStepDeps = { pool: { forget: () => undefined } as unknown as NodeShell };
  // The deployment's resumer: its plan again, on the nodes the queue kept for it.
  const replanned: (readonly string[] | undefined)[] = [];
  const deploy: Resumer = async (_row, _signal, queued) => {
    replanned.push(queued);
    return deployment([...(queued ?? [])]);
  };
  const ops = new OperationService(ctx, [DEPLOY, REBOOT, POWER], { power: powerResumer(ctx, deps), deploy });
  return {
    ctx,
    ops,
    deps,
    replanned,
    crash: async () => {
      store.close();
      ac.abort();
      await ops.idle();
    },
    close: () => {
      ac.abort();
      store.close();
    },
  };
}

const calls = () => readFileSync(path.join(aux, 'calls'), 'utf8').trim().split('\n');
const kindOf = (wid: string) => (wid.startsWith('D-') ? DEPLOY : POWER);

describe('operations queued for admission when the engine stopped', () => {
  it('are queued again after the restart, same ids, order and positions; a cancel takes one out; the others run in order', async () => {
    writeFileSync(path.join(aux, 'hang'), '');
    const a = engine();
    const off = (node: string) => planPower(a.ctx, a.deps, alice, { action: 'off', nodes: [node] });
    const running = a.ops.launch(off(N1));
    await vi.waitFor(() => expect(existsSync(path.join(aux, 'calls')) && calls()).toEqual([N1]));
    const queued = [
      a.ops.launch(off(N2)),
      a.ops.launch(deployment([N3])),
      a.ops.launch(off(N4)),
      a.ops.launch(off(N5)),
    ];
    expect(queued.map((w) => a.ops.queuePosition(w))).toEqual([1, 2, 3, 4]);
    await a.crash();

    const b = engine();
    try {
      // The running one goes on; the queued ones wait again, in their order, across kinds.
      expect(b.ops.status(alice, POWER, running).status).toBe('running');
      expect(queued.map((w) => b.ops.status(alice, kindOf(w), w))).toMatchObject(
        queued.map((wid, i) => ({ wid, status: 'queued', queuePosition: i + 1 })),
      );
      expect(b.ops.status(alice, POWER, queued[3] as string).nodes).toEqual({ [N5]: { state: 'waiting' } });
      expect(queued.map((w) => b.ctx.store.workflows.get(w)?.status)).toEqual([
        'queued',
        'queued',
        'queued',
        'queued',
      ]);
      expect(b.ctx.operations.get(queued[2] as string)).toMatchObject({
        kind: 'power',
        user: 'alice',
        nodes: [N4],
      });
      const lines = b.ops.logs(alice, POWER, queued[0] as string, {
        from: 0,
        verbosity: 0,
        debug: false,
      }).lines;
      expect(lines).toEqual([
        `Power operation #${queued[0]} still queued after the engine restarted (position 1): 1 operation(s) with 1 node(s) in flight, the site admits 1 operations, no bound on nodes`,
      ]);
      // Nothing re-planned before its turn.
      expect(b.replanned).toEqual([]);

      // Cancelling one still works: out of the queue, its node untouched, the ones behind move up.
      b.ops.cancel(alice, POWER, queued[2] as string);
      await vi.waitFor(() =>
        expect(b.ops.status(alice, POWER, queued[2] as string).status).toBe('cancelled'),
      );
      expect(b.ops.status(alice, POWER, queued[3] as string).queuePosition).toBe(3);
      expect(b.ops.status(alice, POWER, queued[2] as string).outcomes).toMatchObject([
        { node: N4, status: 'cancelled', reason: 'cancelled by alice' },
      ]);

      rmSync(path.join(aux, 'hang'));
      await b.ops.idle();
      expect([running, ...queued].map((w) => b.ops.status(alice, kindOf(w), w).status)).toEqual([
        'done',
        'done',
        'done',
        'cancelled',
        'done',
      ]);
      // One after the other, in their order: N1 once before the restart and once after it.
      expect(calls()).toEqual([N1, N1, N2, N3, N5]);
      expect(b.replanned).toEqual([[N3]]);
      expect(N.map((n) => b.ctx.store.nodes.get(n)?.state)).toEqual([
        'powered',
        'powered',
        'deployed',
        'prod_env',
        'powered',
      ]);
      const last = b.ops.logs(alice, POWER, queued[3] as string, {
        from: 0,
        verbosity: 0,
        debug: false,
      }).lines;
      expect(last.at(-1)).toBe(`Power operation #${queued[3]} done (1/1 nodes OK)`);
      expect(last).toContainEqual(expect.stringMatching(/leaves the queue after \d+ s and starts$/));
    } finally {
      b.close();
    }
    // Another restart finds nothing left to queue or resume.
    const c = engine();
    try {
      expect(c.ctx.store.progress.queue()).toEqual([]);
      expect(c.ops.list(alice, POWER)).toEqual([]);
    } finally {
      c.close();
    }
  });
});
