import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/logger.js';
import { createStepTable, type NodeShell } from '../../../src/engine/steps/index.js';
import { runSteps, UNTRUSTED } from './helpers/run-steps.js';
import { FAST, specFor } from './helpers/spec.js';
import { treeDigest } from './helpers/tree-digest.js';
import { deployPartDir, startVSite, type VSite } from './helpers/vsite.js';

const N = 5;

describe('broadcasts to 5 virtual nodes', () => {
  let v: VSite;
  beforeAll(async () => {
    v = await startVSite({ n: N });
  });
  afterAll(async () => {
    await v?.close();
  });
  // Every test starts from nodes in the deployment environment with a fresh, mounted deploy partition.
  beforeEach(async ({ signal }) => {
    for (const n of v.nodes) n.clearFaults();
    const ex = createStepTable(specFor(v), { pool: v.pool, logger: silentLogger, tuning: FAST });
    const r = await runSteps(
      ex,
      v.names,
      [['SetDeploymentEnv', 'SetDeploymentEnvUntrusted', UNTRUSTED]],
      signal,
    );
    expect([...r.values()].every((x) => x.ok)).toBe(true);
  });

  const broadcast = async (
    impl: 'BroadcastEnvChain' | 'BroadcastEnvKascade' | 'BroadcastEnvTree',
    signal: AbortSignal,
  ) => {
    const debug: string[] = [];
    const ex = createStepTable(specFor(v), { pool: v.pool, logger: silentLogger, tuning: FAST });
    // Bounded so that a stalled broadcast fails with its per-node debug output, not a bare test timeout.
    const bounded = AbortSignal.any([signal, AbortSignal.timeout(40_000)]);
    const r = await runSteps(ex, v.names, [['BroadcastEnv', impl, ['send_environment']]], bounded, debug);
    if ([...r.values()].some((x) => !x.ok && x.reason === 'aborted')) {
      throw new Error(`broadcast stalled:\n${debug.join('\n')}\n${JSON.stringify([...r])}`);
    }
    return { r, debug };
  };

  it('chain: every node gets the same tree', async ({ signal }) => {
    const { r } = await broadcast('BroadcastEnvChain', signal);
    expect([...r.entries()]).toEqual(v.names.map((n) => [n, { ok: true }]));
    const digests = await Promise.all(v.names.map((_, i) => treeDigest(deployPartDir(v, i))));
    expect(new Set(digests).size).toBe(1);
    expect(await readFile(path.join(deployPartDir(v, 4), 'etc/hostname'), 'utf8')).toContain('tiny');
  });

  it('tree (relays with two --next): every node gets the same tree', async ({ signal }) => {
    const cmds: string[] = [];
    const spy: NodeShell = {
      exec: (t, c, o) => {
        cmds.push(c);
        return v.pool.exec(t, c, o);
      },
      forget: (n) => v.pool.forget(n),
    };
    const ex = createStepTable(specFor(v), { pool: spy, logger: silentLogger, tuning: FAST });
    const r = await runSteps(
      ex,
      v.names,
      [['BroadcastEnv', 'BroadcastEnvTree', ['send_environment']]],
      signal,
    );
    // node 1 forwards to nodes 2 and 3, node 2 to nodes 4 and 5.
    const a = (i: number) => v.site.clusters[0]?.nodes[i]?.address;
    expect(cmds.filter((c) => c.includes(`--next ${a(1)}:25400 --next ${a(2)}:25400 --`))).toHaveLength(1);
    expect(cmds.filter((c) => c.includes(`--next ${a(3)}:25400 --next ${a(4)}:25400 --`))).toHaveLength(1);
    expect([...r.entries()]).toEqual(v.names.map((n) => [n, { ok: true }]));
    const digests = await Promise.all(v.names.map((_, i) => treeDigest(deployPartDir(v, i))));
    expect(new Set(digests).size).toBe(1);
  });

  it('tree as two chains (relays with one --next): every node gets the same tree', async ({ signal }) => {
    const ex = createStepTable(specFor(v), {
      pool: v.pool,
      logger: silentLogger,
      tuning: { ...FAST, relayMultiNext: false },
    });
    const r = await runSteps(
      ex,
      v.names,
      [['BroadcastEnv', 'BroadcastEnvTree', ['send_environment']]],
      signal,
    );
    expect([...r.entries()]).toEqual(v.names.map((n) => [n, { ok: true }]));
    const digests = await Promise.all(v.names.map((_, i) => treeDigest(deployPartDir(v, i))));
    expect(new Set(digests).size).toBe(1);
  });

  it('chain: a node dropping mid-transfer breaks the chain after it', async ({ signal }) => {
    v.nodes[2]?.injectFault({ kind: 'drop_connection', when: 'kaploy-relay', afterBytes: 300_000, times: 1 });
    const { r } = await broadcast('BroadcastEnvChain', signal);
    expect(r.get(v.names[0] as string)).toEqual({ ok: true });
    expect(r.get(v.names[2] as string)).toMatchObject({ ok: false, reason: 'SSH connection lost' });
    for (const i of [3, 4]) {
      expect(r.get(v.names[i] as string)).toMatchObject({
        ok: false,
        reason: `broadcast broken upstream at ${v.names[2]}`,
      });
    }
  });

  it("chain: a node whose write fails is KO with the writer's status and error", async ({ signal }) => {
    v.nodes[2]?.injectFault({ kind: 'corrupt_disk', when: 'kaploy-relay' });
    const { r } = await broadcast('BroadcastEnvChain', signal);
    expect(r.get(v.names[1] as string)).toEqual({ ok: true });
    const bad = r.get(v.names[2] as string);
    expect(bad?.ok).toBe(false);
    expect(bad && !bad.ok && bad.reason).toMatch(/^tar exited with code 2: .*gzip/);
    expect(bad && !bad.ok && bad.reason).not.toMatch(/kaploy-relay|kaploy-sink-status/);
    expect(r.get(v.names[3] as string)).toMatchObject({
      ok: false,
      reason: `broadcast broken upstream at ${v.names[2]}`,
    });
  });

  it('kascade: a node whose write fails once is re-sent with the tail of the chain and ends OK', async ({
    signal,
  }) => {
    v.nodes[2]?.injectFault({ kind: 'corrupt_disk', when: 'kaploy-relay', times: 1 });
    const { r } = await broadcast('BroadcastEnvKascade', signal);
    expect([...r.entries()]).toEqual(v.names.map((n) => [n, { ok: true }]));
    const digests = await Promise.all(v.names.map((_, i) => treeDigest(deployPartDir(v, i))));
    expect(new Set(digests).size).toBe(1);
  });

  it('kascade: a node dropping mid-transfer (every time) is KO, the others finish with the same tree', async ({
    signal,
  }) => {
    v.nodes[2]?.injectFault({ kind: 'drop_connection', when: 'kaploy-relay', afterBytes: 300_000 });
    const { r } = await broadcast('BroadcastEnvKascade', signal);
    const ok = v.names.filter((_, i) => i !== 2);
    for (const n of ok) expect(r.get(n)).toEqual({ ok: true });
    expect(r.get(v.names[2] as string)).toMatchObject({ ok: false, reason: 'SSH connection lost' });
    const digests = await Promise.all([0, 1, 3, 4].map((i) => treeDigest(deployPartDir(v, i))));
    expect(new Set(digests).size).toBe(1);
  });
});
