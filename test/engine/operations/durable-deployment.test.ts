import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../src/common/logger.js';
import { md5File } from '../../../src/common/md5.js';
import { FileCache } from '../../../src/engine/environments/file-cache.js';
import type { NodeStepDeps } from '../../../src/engine/nodeops/node-step-env.js';
import { POWER, REBOOT } from '../../../src/engine/nodeops/nodeop-kinds.js';
import { DEPLOY } from '../../../src/engine/operations/deploy-kind.js';
import { planDeployment } from '../../../src/engine/operations/deployment.js';
import { deploymentResumer } from '../../../src/engine/operations/deployment-recovery.js';
import { OperationService } from '../../../src/engine/operations/operation-service.js';
import type { EngineContext } from '../../../src/engine/server/context.js';
import { OperationRegistry } from '../../../src/engine/server/operations-registry.js';
import type { NodeShell } from '../../../src/engine/steps/deployment-spec.js';
import { openStore, storePath } from '../../../src/engine/store/store.js';
import type { MicroStep } from '../../../src/engine/workflow/types.js';
import { parseDescription } from '../../../src/formats/environment/parse.js';
import { makeSite, type TestSite, writeFile } from '../helpers/site.js';
import { type Call, fakeSteps, type Script } from '../workflow/fake-steps.js';

/**
 * Durable workflows: an engine stopped in the middle of a deployment (its store kept as a kill -9
 * leaves it, nothing of its end written) and a new engine on the same store, which resumes the
 * deployment under the same id, each node after the last micro-step it completed, with scripted
 * micro-steps (no node is touched).
 */
let site: TestSite;
const N = ['node-1.testsite', 'node-2.testsite', 'node-3.testsite', 'node-4.testsite'];
const [N1, N2, N3, N4] = N as [string, string, string, string];
const alice = { name: 'alice', admin: false };
const KINDS = [DEPLOY, REBOOT, POWER];

beforeEach(async () => {
  site = makeSite({ users: ['alice'], nodes: 4 });
  const image = writeFile(site.imageDir, 'tiny.tgz', 'image bytes');
  const post = writeFile(site.imageDir, 'post.tgz', 'postinstall bytes');
  const { env } = parseDescription(
    `name: tiny\nversion: 1\nos: linux\nimage: {file: '${image}', kind: tar, compression: gzip}\n` +
      `postinstalls: [{archive: '${post}', compression: gzip, script: run.sh}]\n` +
      'boot: {kernel: /vmlinuz}\nfilesystem: ext4\n',
    'tiny.yaml',
  );
  // Recorded as the engine records files of its image directories.
  Object.assign(env.image, { md5: await md5File(image), source: 'server' });
  Object.assign(env.postinstalls[0] as object, { md5: await md5File(post), source: 'server' });
  const store = openStore(storePath(site.config.dataDir));
  try {
    store.nodes.ensure(N, 'prod_env');
    store.rights.add(N.map((node) => ({ user: 'alice', node, partition: '*' })));
    store.environments.insert('alice', env);
  } finally {
    store.close();
  }
});

afterEach(() => site?.cleanup());

/** One engine on the site's store: its context, operation service and scripted steps. */
function engine(script: Script) {
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
  const fake = fakeSteps(script);
  // The scripted table replaces the real one: the pool is never used.
  const deps: NodeStepDeps = { pool: {} as NodeShell, stepTable: () => fake.steps };
  const ops = new OperationService(ctx, KINDS, { deploy: deploymentResumer(ctx, deps) });
  /** A kill -9: nothing more reaches the store; then its work stops (its writes fail, unheard). */
  const crash = async () => {
    store.close();
    ac.abort();
    await ops.idle();
  };
  const close = () => {
    ac.abort();
    store.close();
  };
  return { ctx, ops, deps, fake, crash, close };
}

/** `impl-micro` of each call a node was in, in order. */
const stepsOf = (calls: readonly Call[], node: string) =>
  calls.filter((c) => c.nodes.includes(node)).map((c) => `${c.impl}-${c.micro}`);

/** Resolves when each of `nodes` has entered its `micro` (in `impl`) and hangs there. */
function hangs(where: Record<string, [string, MicroStep]>) {
  const entered = new Map<string, () => void>();
  const all = Promise.all(Object.keys(where).map((n) => new Promise<void>((r) => entered.set(n, r))));
  const script: Script = (node, micro, impl) => {
    const w = where[node];
    if (w && w[0] === impl && w[1] === micro) {
      entered.get(node)?.();
      return { hang: true };
    }
    return undefined;
  };
  return { script, all };
}

describe('a deployment an engine restart interrupted', () => {
  it('goes on under its id after the restart: each node after its last completed step, to its end', async () => {
    // N1 in the broadcast, N3 in the user postinstall (not to be run twice), N4 waiting for its
    // reboot onto the new system; N2 done before the stop.
    const h = hangs({
      [N1]: ['BroadcastEnvKascade', 'send_environment'],
      [N3]: ['BroadcastEnvKascade', 'manage_user_post_install'],
      [N4]: ['BootNewEnvClassical', 'wait_reboot'],
    });
    const a = engine(h.script);
    const plan = await planDeployment(a.ctx, a.deps, alice, {
      nodes: N,
      environment: { kind: 'recorded', name: 'tiny' },
    });
    const wid = a.ops.launch(plan);
    await h.all;
    // What a kill -9 would leave: the progress written so far (N2's end included).
    await vi.waitFor(() => {
      const rows = a.ctx.store.progress.of(wid);
      expect(rows.find((r) => r.node === N2)?.outcome).toContain('"status":"ok"');
      expect(rows.find((r) => r.node === N3)?.entered).toBe('manage_user_post_install');
      expect(rows.find((r) => r.node === N4)?.micro).toBe('reboot_from_deploy_env');
    });
    const logBefore = a.ops.logs(alice, DEPLOY, wid, { from: 0, verbosity: 0, debug: false }).next;
    const firstRun = [...a.fake.calls];
    await a.crash();

    const b = engine(() => undefined);
    try {
      // Followed at once under the same id, running again.
      expect(b.ops.status(alice, DEPLOY, wid).status).toBe('running');
      await b.ops.idle();
      const st = b.ops.status(alice, DEPLOY, wid);
      expect(st.status).toBe('done');
      const by = new Map((st.outcomes ?? []).map((o) => [o.node, o]));
      expect([...by].map(([n, o]) => [n, o.status]).sort()).toEqual([
        [N1, 'ok'],
        [N2, 'ok'],
        [N3, 'ko'],
        [N4, 'ok'],
      ]);
      expect(by.get(N3)?.reason).toBe(
        "the engine restarted during BroadcastEnvKascade-manage_user_post_install: the environment's postinstall may not be run twice",
      );
      const second = b.fake.calls;
      // N1 redid the broadcast, then the rest, once each; N2 and N3 ran nothing more; N4 redid
      // only its wait for the reboot.
      expect(stepsOf(second, N1)).toEqual([
        'BroadcastEnvKascade-send_environment',
        'BroadcastEnvKascade-manage_user_post_install',
        'BroadcastEnvKascade-check_kernel_files',
        'BroadcastEnvKascade-install_bootloader',
        'BroadcastEnvKascade-sync',
        'BootNewEnvClassical-switch_pxe',
        'BootNewEnvClassical-umount_deploy_part',
        'BootNewEnvClassical-reboot_from_deploy_env',
        'BootNewEnvClassical-wait_reboot',
      ]);
      expect(stepsOf(second, N2)).toEqual([]);
      expect(stepsOf(second, N3)).toEqual([]);
      expect(stepsOf(second, N4)).toEqual(['BootNewEnvClassical-wait_reboot']);
      // Across both engines: every step once per node, but the one each node was in at the stop.
      for (const n of [N1, N4]) {
        const all = [...stepsOf(firstRun, n), ...stepsOf(second, n)];
        const twice = all.filter((s, i) => all.indexOf(s) !== i);
        expect([n, twice]).toEqual([
          n,
          [n === N1 ? 'BroadcastEnvKascade-send_environment' : 'BootNewEnvClassical-wait_reboot'],
        ]);
        expect(all[0]).toBe('SetDeploymentEnvUntrusted-switch_pxe');
      }
      // The store says the same: the end, the node states, one statistics row per node.
      const { store } = b.ctx;
      expect(store.workflows.get(wid)?.status).toBe('done');
      expect(N.map((n) => store.nodes.get(n)?.state)).toEqual([
        'deployed',
        'deployed',
        'deploy_failed',
        'deployed',
      ]);
      const stats = store.db
        .prepare('SELECT hostname, success, step1, step2, step3 FROM stats WHERE wid = ? ORDER BY hostname')
        .all(wid);
      expect(stats).toEqual([
        {
          hostname: N1,
          success: 1,
          step1: 'SetDeploymentEnvUntrusted',
          step2: 'BroadcastEnvKascade',
          step3: 'BootNewEnvClassical',
        },
        {
          hostname: N2,
          success: 1,
          step1: 'SetDeploymentEnvUntrusted',
          step2: 'BroadcastEnvKascade',
          step3: 'BootNewEnvClassical',
        },
        {
          hostname: N3,
          success: 0,
          step1: 'SetDeploymentEnvUntrusted',
          step2: 'BroadcastEnvKascade',
          step3: '',
        },
        {
          hostname: N4,
          success: 1,
          step1: 'SetDeploymentEnvUntrusted',
          step2: 'BroadcastEnvKascade',
          step3: 'BootNewEnvClassical',
        },
      ]);
      // A follower still at its place in the log before the restart reads the new one from its start.
      const page = b.ops.logs(alice, DEPLOY, wid, { from: logBefore, verbosity: 0, debug: false });
      expect(page.done).toBe(true);
      expect(page.lines).toEqual(
        expect.arrayContaining([
          'engine restarted; resuming from BroadcastEnvKascade-send_environment for 1 nodes',
          'engine restarted; resuming from BootNewEnvClassical-wait_reboot for 1 nodes',
          `Deployment #${wid} done (3/4 nodes OK)`,
        ]),
      );
      expect(page.lines.slice(0, 3)).toEqual([
        'Launching a deployment on node-[1-4].testsite',
        'engine restarted; resuming from BroadcastEnvKascade-send_environment for 1 nodes',
        'engine restarted; resuming from BootNewEnvClassical-wait_reboot for 1 nodes',
      ]);
    } finally {
      b.close();
    }
  });

  it('fails, its nodes deploy_failed, when its owner lost the rights on them meanwhile', async () => {
    const h = hangs({ [N1]: ['SetDeploymentEnvUntrusted', 'wait_reboot'] });
    const a = engine(h.script);
    const wid = a.ops.launch(
      await planDeployment(a.ctx, a.deps, alice, {
        nodes: [N1],
        environment: { kind: 'recorded', name: 'tiny' },
      }),
    );
    await h.all;
    await vi.waitFor(() =>
      expect(a.ctx.store.progress.of(wid).find((r) => r.node === N1)?.micro).toBe('reboot'),
    );
    a.ctx.store.rights.remove('alice', N1);
    await a.crash();
    const b = engine(() => undefined);
    try {
      await b.ops.idle();
      const st = b.ops.status(alice, DEPLOY, wid);
      expect(st).toMatchObject({ status: 'failed', error: { code: 'KAPLOY_RIGHTS' } });
      expect(st.outcomes?.map((o) => [o.node, o.status])).toEqual([[N1, 'ko']]);
      expect(b.ctx.store.nodes.get(N1)?.state).toBe('deploy_failed');
      expect(b.fake.calls).toEqual([]);
    } finally {
      b.close();
    }
  });
});
