import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/common/logger.js';
import type { DeploymentSpec } from '../../src/deploy/steps/deployment-spec.js';
import { createStepExecutor } from '../../src/deploy/steps/index.js';
import { stepCtx, testSite } from './helpers/site.js';

// The probe is replaced: 'slow' answers 'down' after SLOW_MS (a node whose probe is slow makes
// every round that long), 'late' comes back (in the deployed system) at LATE_MS.
const SLOW_MS = 400;
const POLL_MS = 400;
const LATE_MS = 1500;
const t0 = { at: 0 };
const lateProbes: number[] = [];
vi.mock('../../src/deploy/boot/node-probe.js', () => ({
  probeNode: async (address: string) => {
    const now = Date.now() - t0.at;
    if (address === '127.0.0.2') {
      await sleep(SLOW_MS);
      return now > 3000 ? 'installed' : 'down';
    }
    lateProbes.push(now);
    return now >= LATE_MS ? 'installed' : 'down';
  },
}));

describe('wait_reboot polls every poll period, a round included', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kaploy-cadence-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a slow round does not add a whole poll period before the next one', async ({ signal }) => {
    const site = testSite({
      dir,
      nodes: [
        { name: 'late', address: '127.0.0.1' },
        { name: 'slow', address: '127.0.0.2' },
      ],
    });
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
        exec: async () => ({ exitCode: 0, exitSignal: null, stdout: '', stderr: '' }),
        forget: () => {},
      },
      logger: silentLogger,
      tuning: { waitRebootInitialDelayMs: 0, waitRebootPollMs: POLL_MS, probeTimeoutMs: 1000 },
    });
    const reported: Record<string, number> = {};
    const ctx = {
      ...stepCtx('BootNewEnv', 'BootNewEnvClassical', 'wait_reboot', signal),
      report: (node: string) => {
        reported[node] = Date.now() - t0.at;
      },
    };
    t0.at = Date.now();
    const r = await ex.run('wait_reboot', ['late', 'slow'], ctx);
    expect([...r.values()]).toEqual([{ ok: true }, { ok: true }]);
    // Rounds every max(poll, round) = 400 ms, not round + poll = 800 ms.
    const gaps = lateProbes.slice(1).map((t, i) => t - (lateProbes[i] as number));
    expect(gaps.length).toBeGreaterThanOrEqual(3);
    for (const g of gaps) expect(g).toBeLessThan(POLL_MS + 300);
    // Seen in the first round after it came back; reported at that round's end.
    expect(reported.late).toBeLessThan(LATE_MS + POLL_MS + SLOW_MS + 300);
  });
});
