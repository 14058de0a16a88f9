import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../src/common/logger.js';
import type { DeploymentSpec } from '../../../src/engine/steps/deployment-spec.js';
import { createStepExecutor } from '../../../src/engine/steps/index.js';
import { GROUP_HOLD_ROUNDS } from '../../../src/engine/steps/wait-reboot.js';
import { stepCtx, testSite } from './helpers/site.js';

// The probe is replaced: each node (by address) comes back in the deployed system at `backAt` ms
// after the step starts; its probe takes `probeMs`. Probe times are recorded per node.
const plan = new Map<string, { backAt: number; probeMs?: number }>();
const probes = new Map<string, number[]>();
const t0 = { at: 0 };
vi.mock('../../../src/engine/boot/node-probe.js', () => ({
  probeNode: async (address: string) => {
    const now = Date.now() - t0.at;
    const p = plan.get(address) ?? { backAt: Number.POSITIVE_INFINITY };
    probes.set(address, [...(probes.get(address) ?? []), now]);
    if (p.probeMs) await sleep(p.probeMs);
    return now >= p.backAt ? 'installed' : 'down';
  },
}));

describe('wait_reboot rounds and the groups it reports', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kaploy-cadence-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs wait_reboot (BootNewEnv: probes only) on nodes n1.. with the given plan; report times. */
  async function run(nodes: { backAt: number; probeMs?: number }[], pollMs: number, signal: AbortSignal) {
    plan.clear();
    probes.clear();
    const list = nodes.map((_p, i) => ({ name: `n${i + 1}`, address: `127.0.0.${i + 1}` }));
    for (const [i, p] of nodes.entries()) plan.set(`127.0.0.${i + 1}`, p);
    const site = testSite({ dir, nodes: list });
    const spec: DeploymentSpec = {
      wid: 'D-test',
      user: 'alice',
      site,
      nodes: site.clusters[0]?.nodes ?? [],
      env: {
        name: 'e',
        version: 1,
        os: 'linux',
        image: { path: '/nonexistent', kind: 'tar', compression: 'gzip', md5: '' },
        kernel: '/boot/vmlinuz',
        postinstalls: [],
      },
      disableBootloaderInstall: false,
      disableDiskPartitioning: false,
      debug: false,
    };
    const ex = createStepExecutor(spec, {
      pool: {
        exec: async () => ({ exitCode: 0, stdout: '', stderr: '' }),
        forget: () => {},
      },
      logger: silentLogger,
      tuning: { waitRebootInitialDelayMs: 0, waitRebootPollMs: pollMs, probeTimeoutMs: 1000 },
    });
    const reported: Record<string, number> = {};
    // A batch is the nodes reported in one synchronous run of the step's report loop: its time is
    // taken once, so nodes reported together compare equal even when the clock ticks mid-loop.
    let batchAt: number | undefined;
    const ctx = {
      ...stepCtx('BootNewEnv', 'BootNewEnvClassical', 'wait_reboot', signal),
      report: (node: string) => {
        if (batchAt === undefined) {
          batchAt = Date.now() - t0.at;
          queueMicrotask(() => {
            batchAt = undefined;
          });
        }
        reported[node] = batchAt;
      },
    };
    t0.at = Date.now();
    const r = await ex.run(
      'wait_reboot',
      list.map((n) => n.name),
      ctx,
    );
    expect([...r.values()].every((x) => x.ok)).toBe(true);
    return reported;
  }

  it('a slow round does not add a whole poll period before the next one', async ({ signal }) => {
    // n2's probe takes 400 ms, so every round does; rounds start every max(poll, round) = 400 ms.
    const reported = await run([{ backAt: 1500 }, { backAt: 3000, probeMs: 400 }], 400, signal);
    const t = probes.get('127.0.0.1') ?? [];
    const gaps = t.slice(1).map((x, i) => x - (t[i] as number));
    expect(gaps.length).toBeGreaterThanOrEqual(3);
    for (const g of gaps) expect(g).toBeLessThan(400 + 300); // not round + poll = 800 ms
    expect(reported.n1).toBeGreaterThan(1500);
  });

  it('nodes coming back over consecutive rounds are reported together; a late one alone', async ({
    signal,
  }) => {
    const poll = 100;
    // n1..n3 back over three rounds, n4 much later.
    const reported = await run(
      [{ backAt: 150 }, { backAt: 250 }, { backAt: 350 }, { backAt: 150 + poll * GROUP_HOLD_ROUNDS + 1000 }],
      poll,
      signal,
    );
    expect(reported.n1).toBe(reported.n2);
    expect(reported.n2).toBe(reported.n3);
    // Reported at the first round that found no new node: one round after n3 came back.
    expect(reported.n1).toBeLessThan(350 + 3 * poll + 200);
    expect(reported.n4).toBeGreaterThan(reported.n1 as number);
  });

  it('an endless stream of arrivals holds the first ones at most GROUP_HOLD_ROUNDS poll periods', async ({
    signal,
  }) => {
    const poll = 100;
    // One node back every round for twice the hold time.
    const n = GROUP_HOLD_ROUNDS * 2;
    const reported = await run(
      Array.from({ length: n }, (_, i) => ({ backAt: 50 + i * poll })),
      poll,
      signal,
    );
    expect(reported.n1).toBeLessThan(50 + poll * GROUP_HOLD_ROUNDS + 2 * poll + 200);
    expect(reported[`n${n}`]).toBeGreaterThan(reported.n1 as number);
  });
});
