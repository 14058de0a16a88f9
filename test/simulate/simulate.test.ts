import { describe, expect, it } from 'vitest';
import { parseSiteConfig } from '../../src/common/site-config.js';
import { BASE_MICRO_STEPS } from '../../src/engine/workflow/micro-steps.js';
import { parseHardwareModel } from '../../src/simulate/model.js';
import { type SimulationResult, simulate } from '../../src/simulate/simulate.js';

// Every time below is computed by hand from this model: fixed durations (sd 0), so each node's
// path is a sum. Ordinary micro-steps take 1 s, a reboot command 2 s, firmware 10 s, kernel boot
// 20 s (30 s after a power reboot), kexec 3 s; the image is 100 MB at 10 MB/s (10 s) plus 0.5 s per
// relay; wait_reboot polls every second from the start (no initial delay).
const MICRO = [...new Set(Object.values(BASE_MICRO_STEPS).flat())];
const ordinary = MICRO.filter(
  (m) =>
    !['reboot', 'reboot_from_deploy_env', 'wait_reboot', 'kexec', 'send_environment', 'dummy'].includes(m),
);
const modelText = (extra = '') => `
image_mb: 100
hop_latency_ms: 500
engine_nic_mb_s: 1000
defaults:
  firmware_s: 10
  boot_s: 20
  kexec_s: 3
  power_command_s: 2
  disk_mb_s: 100
  nic_mb_s: 10
  steps: { ${ordinary.map((m) => `${m}: 1`).join(', ')} }
${extra}`;

const siteText = (nodes: number, rebootWindow = 10) => `
site: t
admins: [kaadmin]
windows: { reboot: ${rebootWindow}, check: 10 }
wait_reboot: { initial_delay_ms: 0, poll_ms: 1000 }
clusters:
  - name: c
    nodes: { names: "n-[1-${nodes}].t", addresses: "10.0.0.[1-${nodes}]" }
    timeouts: { reboot: "300", kexec: "100" }
`;

const CLASSICAL =
  'SetDeploymentEnv|SetDeploymentEnvUntrusted:0:1000&BroadcastEnv|BroadcastEnvChain:0:1000&BootNewEnv|BootNewEnvClassical:0:1000';

async function run(o: { nodes?: number; window?: number; model?: string; steps?: string; seed?: number }) {
  return simulate({
    site: parseSiteConfig(siteText(o.nodes ?? 1, o.window), 'site.yaml'),
    model: parseHardwareModel(modelText(o.model), 'model.yaml'),
    seed: o.seed ?? 1,
    forceSteps: o.steps ?? CLASSICAL,
  });
}

const path = (r: SimulationResult) => r.criticalPath.spans.map((s) => [s.micro, s.startS, s.endS]);

describe('kaploy simulate: hand-computed critical paths', () => {
  it('one node: the sum of its steps, each starting when the previous ends', async () => {
    const r = await run({});
    // switch_pxe 0-1, reboot 1-3 (boots at 3+10+20=33), wait_reboot 3-33, four disk steps to 37,
    // the broadcast 37-47.5 (10 s + one relay), three steps to 50.5, switch_pxe and umount to 52.5,
    // reboot_from_deploy_env 52.5-54.5, back at 84.5.
    expect(path(r)).toEqual([
      ['switch_pxe', 0, 1],
      ['reboot', 1, 3],
      ['wait_reboot', 3, 33],
      ['create_partition_table', 33, 34],
      ['format_deploy_part', 34, 35],
      ['mount_deploy_part', 35, 36],
      ['format_swap_part', 36, 37],
      ['send_environment', 37, 47.5],
      ['check_kernel_files', 47.5, 48.5],
      ['install_bootloader', 48.5, 49.5],
      ['sync', 49.5, 50.5],
      ['switch_pxe', 50.5, 51.5],
      ['umount_deploy_part', 51.5, 52.5],
      ['reboot_from_deploy_env', 52.5, 54.5],
      ['wait_reboot', 54.5, 84.5],
    ]);
    expect(r.totalS).toBe(84.5);
    expect(r.lastOkS).toBe(84.5);
    expect(r.macros).toEqual([
      { macro: 'SetDeploymentEnv', startS: 0, endS: 37 },
      { macro: 'BroadcastEnv', startS: 37, endS: 50.5 },
      { macro: 'BootNewEnv', startS: 50.5, endS: 84.5 },
    ]);
    expect(r.ok).toBe(1);
    expect(r.ko).toEqual([]);
    expect(r.timeouts).toEqual([]);
  });

  it('a reboot window of 1: three nodes power-cycled one after the other, then split on arrival', async () => {
    const r = await run({ nodes: 3, window: 1 });
    // reboot 1-7 (2 s each in turn): back at 33, 35, 37. wait_reboot reports a node once a poll
    // round finds no other: n-1 at 34, n-2 at 36, n-3 at 37 (last one pending). Each goes on
    // alone; n-3: disk steps to 41, broadcast to 51.5, steps to 54.5, then switch_pxe and umount to
    // 56.5, where the window is held by n-2 (55.5-57.5): its reboot command runs 57.5-59.5, back at 89.5.
    expect(r.criticalPath.node).toBe('n-3.t');
    expect(path(r).slice(1, 4)).toEqual([
      ['reboot', 1, 7],
      ['wait_reboot', 7, 37],
      ['create_partition_table', 37, 38],
    ]);
    expect(path(r).slice(-3)).toEqual([
      ['umount_deploy_part', 55.5, 56.5],
      ['reboot_from_deploy_env', 56.5, 59.5],
      ['wait_reboot', 59.5, 89.5],
    ]);
    expect(r.totalS).toBe(89.5);
    expect(r.ok).toBe(3);
  });

  it('a retry: a failed format runs the whole SetDeploymentEnv instance again', async () => {
    const r = await run({
      model: 'faulty_nodes: { n-1.t: { format_deploy_part: fail@0 } }',
      steps: CLASSICAL.replace('SetDeploymentEnvUntrusted:0:1000', 'SetDeploymentEnvUntrusted:1:1000'),
    });
    // First attempt: format fails at 35; the retry starts at 35: switch_pxe 36, reboot 38, back at
    // 68, disk steps to 72; then as the one-node case, 35 s later: 84.5 + 35.
    expect(r.retries).toBe(1);
    expect(path(r).slice(4, 7)).toEqual([
      ['format_deploy_part', 34, 35],
      ['switch_pxe', 35, 36],
      ['reboot', 36, 38],
    ]);
    expect(r.totalS).toBe(119.5);
    expect(r.ok).toBe(1);
  });

  it('a timeout firing: a hung broadcast is cut at the instance timeout and retried', async () => {
    const r = await run({
      model: 'faulty_nodes: { n-1.t: { send_environment: hang@0 } }',
      steps: CLASSICAL.replace('BroadcastEnvChain:0:1000', 'BroadcastEnvChain:1:20'),
    });
    // BroadcastEnv starts at 37; its 20 s timeout fires at 57; the retry's broadcast runs 57-67.5,
    // then as the one-node case from 47.5: 84.5 + 20.
    expect(r.timeouts).toEqual([
      { cluster: 'c', macro: 'BroadcastEnv', impl: 'BroadcastEnvChain', timeoutSec: 20, nodes: 1, atS: 57 },
    ]);
    expect(path(r).slice(7, 9)).toEqual([
      ['send_environment', 37, 57],
      ['send_environment', 57, 67.5],
    ]);
    expect(r.totalS).toBe(104.5);
  });

  it('a fallback: a failed kexec falls back to the hard reboot', async () => {
    const r = await run({
      model: 'faulty_nodes: { n-1.t: { kexec: fail } }',
      steps: CLASSICAL.replace(
        'BootNewEnvClassical:0:1000',
        'BootNewEnvKexec:0:1000,BootNewEnvHardReboot:0:1000',
      ),
    });
    // BootNewEnvKexec from 50.5: switch_pxe, umount, mount to 53.5, kexec fails at 56.5; the hard
    // reboot: switch_pxe 57.5, reboot 59.5, back at 89.5.
    expect(r.fallbacks).toBe(1);
    expect(path(r).slice(-5)).toEqual([
      ['mount_deploy_part', 52.5, 53.5],
      ['kexec', 53.5, 56.5],
      ['switch_pxe', 56.5, 57.5],
      ['reboot', 57.5, 59.5],
      ['wait_reboot', 59.5, 89.5],
    ]);
    expect(r.totalS).toBe(89.5);
    expect(r.ok).toBe(1);
  });

  it('kexec instead of a classical reboot skips the firmware: boot after kexec is the kernel only', async () => {
    const r = await run({ steps: CLASSICAL.replace('BootNewEnvClassical', 'BootNewEnvKexec') });
    // From 50.5: switch_pxe, umount, mount to 53.5, kexec to 56.5, back 20 s later.
    expect(r.totalS).toBe(76.5);
  });

  it('a node that never comes back is escalated soft -> hard -> very_hard, then KO', async () => {
    const r = await run({ model: 'faulty_nodes: { n-1.t: { boot: fail } }' });
    expect(r.ok).toBe(0);
    expect(r.lastOkS).toBe(0);
    expect(r.rebootEscalations).toBe(2);
    expect(r.rebootGiveUps).toBe(1);
    expect(r.ko).toEqual([
      {
        node: 'n-1.t',
        macro: 'SetDeploymentEnv',
        impl: 'SetDeploymentEnvUntrusted',
        micro: 'wait_reboot',
        reason: 'not back after a very_hard reboot within 300s',
      },
    ]);
    // wait_reboot from 3: deadline 303, hard reboot 303-305, deadline 605, very_hard 605-607,
    // deadline 907: given up there.
    expect(r.totalS).toBe(907);
  });
});

describe('kaploy simulate: randomness', () => {
  const random = `
clusters:
  c:
    firmware_s: { mean: 10, sd: 3, min: 5, max: 20 }
    boot_s: { mean: 20, sd: 5, min: 10 }
    faults: { format_deploy_part: { fail: 0.2 }, send_environment: { fail: 0.1 } }
`;
  const strip = (r: SimulationResult) => ({ ...r, stats: undefined });

  it('is reproducible with a seed, and another seed draws other hardware', async () => {
    const a = await run({ nodes: 20, model: random, seed: 7 });
    const b = await run({ nodes: 20, model: random, seed: 7 });
    const c = await run({ nodes: 20, model: random, seed: 8 });
    expect(strip(a)).toEqual(strip(b));
    expect(a.ko.length).toBeGreaterThan(0);
    expect(strip(c)).not.toEqual(strip(a));
  });
});
