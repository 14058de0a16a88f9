import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/logger.js';
import { FileCache } from '../../../src/engine/environments/file-cache.js';
import type { NodeStepDeps } from '../../../src/engine/nodeops/node-step-env.js';
import { rebootResumer } from '../../../src/engine/nodeops/reboot-recovery.js';
import type { EngineContext } from '../../../src/engine/server/context.js';
import { OperationRegistry } from '../../../src/engine/server/operations-registry.js';
import type { NodeShell } from '../../../src/engine/steps/deployment-spec.js';
import { openStore, type Store, storePath } from '../../../src/engine/store/store.js';
import { makeSite, type TestSite } from '../helpers/site.js';

/**
 * The reboot kind's resumer alone, on a store as an engine restart finds it: the plan it makes
 * again from the stored request and what was kept beside it (the PXE profile), on the nodes still
 * the reboot's (or, queued, the nodes its checks kept), and its refusal when what the reboot needs
 * was not kept (a row of an older engine).
 */
let site: TestSite;
let store: Store;
const N = ['node-1.testsite', 'node-2.testsite'];
const [N1, N2] = N as [string, string];
const WID = 'R-00000000-0000-4000-8000-000000000001';
const deps: NodeStepDeps = { pool: { forget: () => undefined } as unknown as NodeShell };

beforeEach(() => {
  site = makeSite({ users: ['alice'], nodes: 2 });
  store = openStore(storePath(site.config.dataDir));
  store.nodes.ensure(N, 'prod_env');
  store.rights.add(N.map((node) => ({ user: 'alice', node, partition: '*' })));
  store.workflows.insert({
    wid: WID,
    kind: 'reboot',
    user: 'alice',
    status: 'running',
    request: { kind: 'set_pxe', nodes: N, impl: 'SetPXE' },
  });
  store.nodes.update(N1, { state: 'rebooting', user: 'alice', wid: WID });
  // N2 was taken by another operation since.
  store.nodes.update(N2, { state: 'deploying', user: 'bob', wid: 'D-other' });
});

afterEach(() => {
  store?.close();
  site?.cleanup();
});

const ctx = (): EngineContext => ({
  config: site.config,
  store,
  operations: new OperationRegistry(),
  logger: silentLogger,
  files: new FileCache(site.config.dataDir),
  signal: new AbortController().signal,
});
const row = () => store.workflows.get(WID) as NonNullable<ReturnType<Store['workflows']['get']>>;
const never = new AbortController().signal;

describe('rebootResumer', () => {
  it('makes the plan again with the kept PXE profile, on the nodes still its own', async () => {
    store.progress.keep(WID, JSON.stringify({ pxeProfile: 'DEFAULT local\nLABEL local\n  LOCALBOOT 0\n' }));
    const plan = await rebootResumer(ctx(), deps)(row(), never);
    expect(plan.nodes).toEqual([N1]);
    expect(plan.extras).toEqual({ pxeProfile: 'DEFAULT local\nLABEL local\n  LOCALBOOT 0\n' });
    expect(plan.runningState).toBe('rebooting');
    // Queued before the restart: the nodes its checks kept, whoever holds them now.
    const queued = await rebootResumer(ctx(), deps)(row(), never, [N2]);
    expect(queued.nodes).toEqual([N2]);
  });

  it('refuses a set_pxe reboot whose profile was not kept (an older engine), saying so', async () => {
    await expect(rebootResumer(ctx(), deps)(row(), never)).rejects.toMatchObject({
      code: 'KAPLOY_MISSING_OPTION',
      message: 'the set_pxe reboot cannot go on after the engine restarted: its PXE profile was not kept',
    });
  });

  it('refuses when none of its nodes is left to it', async () => {
    store.progress.keep(WID, '{}');
    store.nodes.update(N1, { state: 'deploying', user: 'bob', wid: 'D-other' });
    await expect(rebootResumer(ctx(), deps)(row(), never)).rejects.toMatchObject({
      code: 'KAPLOY_NOTHING_MODIFIED',
    });
  });
});
