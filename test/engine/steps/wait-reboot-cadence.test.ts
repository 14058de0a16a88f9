import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../src/common/logger.js';
import { GROUP_HOLD_ROUNDS } from '../../../src/engine/steps/arrival-batch.js';
import type { DeploymentSpec } from '../../../src/engine/steps/deployment-spec.js';
import { createStepTable } from '../../../src/engine/steps/index.js';
import { stepCtx, testSite } from './helpers/site.js';

// The clock is vitest's fake one (Date, setTimeout, and the step's pause between rounds, given as
// its `sleep`): every time below is exact, whatever the load of the machine. The probe is replaced: each node (by address) comes
// back in the deployed system at `backAt` ms after the step starts; its probe takes `probeMs`.
// Probe times are recorded per node.
const plan = new Map<string, { backAt: number; probeMs?: number }>();
const probes = new Map<string, number[]>();
const t0 = { at: 0 };
vi.mock('../../../src/engine/boot/node-probe.js', () => ({
  probeNode: async (address: string) => {
    const now = Date.now() - t0.at;
    const p = plan.get(address) ?? { backAt: Number.POSITIVE_INFINITY };
    probes.set(address, [...(probes.get(address) ?? []), now]);
    if (p.probeMs) await new Promise((resolve) => setTimeout(resolve, p.probeMs));
    return now >= p.backAt ? 'installed' : 'down';
  },
}));

/** An abortable pause on the global setTimeout, which vi.useFakeTimers replaces. */
function fakeSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

describe('wait_reboot rounds and the groups it reports', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kaploy-cadence-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

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
    const ex = createStepTable(spec, {
      pool: {
        exec: async () => ({ exitCode: 0, stdout: '', stderr: '' }),
        forget: () => {},
      },
      logger: silentLogger,
      tuning: { waitRebootInitialDelayMs: 0, waitRebootPollMs: pollMs, probeTimeoutMs: 1000 },
      sleep: fakeSleep,
    });
    const reported: Record<string, number> = {};
    const ctx = {
      ...stepCtx('BootNewEnv', 'BootNewEnvClassical', 'wait_reboot', signal),
      report: (node: string) => {
        reported[node] = Date.now() - t0.at;
      },
    };
    t0.at = Date.now();
    const done = ex.wait_reboot(
      list.map((n) => n.name),
      ctx,
    );
    // Every node comes back at a known time: the clock is run on until the step ends.
    let settled = false;
    void done.finally(() => {
      settled = true;
    });
    for (let i = 0; !settled && i < 10_000; i++) await vi.advanceTimersByTimeAsync(10);
    const r = await done;
    expect([...r.values()].every((x) => x.ok)).toBe(true);
    return reported;
  }

  it('a slow round does not add a whole poll period before the next one', async ({ signal }) => {
    // n2's probe takes 400 ms, so every round does; rounds start every max(poll, round) = 400 ms.
    const reported = await run([{ backAt: 1500 }, { backAt: 3000, probeMs: 400 }], 400, signal);
    // Not round + poll = 800 ms apart: n1 is found back by the round of 1600 ms.
    expect(probes.get('127.0.0.1')).toEqual([0, 400, 800, 1200, 1600]);
    // n2 is probed every round until it is back (its round at 2800 ms still finds it down).
    expect(probes.get('127.0.0.2')).toEqual([0, 400, 800, 1200, 1600, 2000, 2400, 2800, 3200]);
    // n1 waits for the first round that finds no new node (1600..2000 found n1, 2000..2400 none).
    expect(reported.n1).toBe(2400);
    expect(reported.n2).toBe(3600);
  });

  it('nodes coming back over consecutive rounds are reported together; a late one alone', async ({
    signal,
  }) => {
    const poll = 100;
    // n1..n3 back over three rounds, n4 much later.
    const late = 150 + poll * GROUP_HOLD_ROUNDS + 1000;
    const reported = await run(
      [{ backAt: 150 }, { backAt: 250 }, { backAt: 350 }, { backAt: late }],
      poll,
      signal,
    );
    // Found at the rounds of 200, 300 and 400 ms; reported at the end of the first round that
    // found no new node, the round of 500 ms.
    expect(reported.n1).toBe(500);
    expect(reported.n2).toBe(500);
    expect(reported.n3).toBe(500);
    // n4 alone, at the end of the round that finds it (no one else is pending).
    expect(reported.n4).toBe(Math.ceil(late / poll) * poll);
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
    // n1 is found at the round of 100 ms and the batch flushed GROUP_HOLD_ROUNDS polls later,
    // mid-stream, with the nodes found since.
    const flushAt = 100 + poll * GROUP_HOLD_ROUNDS;
    expect(reported.n1).toBe(flushAt);
    for (let i = 1; i < GROUP_HOLD_ROUNDS; i++) expect(reported[`n${i + 1}`]).toBe(flushAt);
    expect(reported[`n${n}`]).toBeGreaterThan(flushAt);
  });
});
