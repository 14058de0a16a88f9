import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { OperationService } from '../../../src/engine/operations/operation-service.js';
import type { EngineContext } from '../../../src/engine/server/context.js';
import { OperationRegistry } from '../../../src/engine/server/operations-registry.js';
import type { NodeShell } from '../../../src/engine/steps/deployment-spec.js';
import { openStore, storePath } from '../../../src/engine/store/store.js';
import { makeSite, type TestSite } from '../helpers/site.js';

/**
 * Durable power operations: an engine stopped while a power off is running (its store kept, as a
 * kill -9 leaves it) and a new engine on the same store, which runs the power off again under the
 * same id on the nodes still its own, to its end. The site's power command is a script that
 * records each call and, while a flag file exists, hangs.
 */
let site: TestSite;
let aux: string;
const N = ['node-1.testsite', 'node-2.testsite'];
const alice = { name: 'alice', admin: false };

beforeEach(() => {
  aux = mkdtempSync(path.join(os.tmpdir(), 'kaploy-durable-power-'));
  const calls = path.join(aux, 'calls');
  const hang = path.join(aux, 'hang');
  site = makeSite({
    users: ['alice'],
    nodes: 2,
    commands: {
      power_off: {
        soft: { argv: ['sh', '-c', `echo {node} >> ${calls}; test -e ${hang} && exec sleep 60; exit 0`] },
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
  // Power operations run the site's commands; the pool only forgets the connections of a node
  // powered off.
  const deps: NodeStepDeps = { pool: { forget: () => undefined } as unknown as NodeShell };
  const ops = new OperationService(ctx, [DEPLOY, REBOOT, POWER], { power: powerResumer(ctx, deps) });
  return {
    ctx,
    ops,
    deps,
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

const calls = () => readFileSync(path.join(aux, 'calls'), 'utf8').trim().split('\n').sort();

describe('a power operation an engine restart interrupted', () => {
  it('runs again under its id on its nodes after the restart, to its end', async () => {
    writeFileSync(path.join(aux, 'hang'), '');
    const a = engine();
    const wid = a.ops.launch(planPower(a.ctx, a.deps, alice, { action: 'off', nodes: N }));
    await vi.waitFor(() => expect(existsSync(path.join(aux, 'calls')) && calls()).toEqual(N));
    await a.crash();
    rmSync(path.join(aux, 'hang'));
    const b = engine();
    try {
      expect(b.ops.status(alice, POWER, wid).status).toBe('running');
      await b.ops.idle();
      const st = b.ops.status(alice, POWER, wid);
      expect(st.status).toBe('done');
      expect(st.outcomes?.map((o) => [o.node, o.status])).toEqual(N.map((n) => [n, 'ok']));
      // Each node's power off ran once more, on the new engine.
      expect(calls()).toEqual([...N, ...N].sort());
      expect(b.ctx.store.workflows.get(wid)?.status).toBe('done');
      expect(N.map((n) => b.ctx.store.nodes.get(n)?.state)).toEqual(['powered', 'powered']);
      const log = b.ops.logs(alice, POWER, wid, { from: 0, verbosity: 0, debug: false });
      expect(log.lines[0]).toBe('engine restarted; resuming from Off-power_off for 2 nodes');
      expect(log.done).toBe(true);
    } finally {
      b.close();
    }
  });

  it('one run as a call by the engine itself (the OAR restore, which runs it again) is settled, not resumed', async () => {
    writeFileSync(path.join(aux, 'hang'), '');
    const a = engine();
    const plan = planPower(a.ctx, a.deps, alice, { action: 'off', nodes: N });
    const running = a.ops.run(plan).catch(() => []);
    await vi.waitFor(() => expect(existsSync(path.join(aux, 'calls')) && calls()).toEqual(N));
    const wid = a.ctx.store.workflows.list({ kind: 'power', unfinished: true })[0]?.wid as string;
    await a.crash();
    await running;
    rmSync(path.join(aux, 'hang'));
    const b = engine();
    try {
      expect(b.ops.status(alice, POWER, wid)).toMatchObject({
        status: 'failed',
        outcomes: N.map((node) => ({
          node,
          status: 'ko',
          reason: 'the engine stopped during the power operation',
        })),
      });
      await b.ops.idle();
      // Not powered off again by the new engine.
      expect(calls()).toEqual(N);
      expect(N.map((n) => b.ctx.store.nodes.get(n)?.state)).toEqual(['power_failed', 'power_failed']);
    } finally {
      b.close();
    }
  });
});
