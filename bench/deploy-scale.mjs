#!/usr/bin/env node
// Engine overhead: deploy the tiny environment on N zero-delay virtual nodes and print wall time,
// per-node overhead, CPU time and peak memory of the engine, the node daemon and the client.
// Usage: npm run build && node bench/deploy-scale.mjs --nodes 100,1000,2000 [--broadcast-env BroadcastEnvKascade] [--keep]
//   [--profile DIR]
// --keep leaves each site's directory (engine.log, testbed.log) and prints where it is.
// --profile DIR writes a CPU profile of the engine and of the node daemon during each deployment
// (DIR/engine-PID.cpuprofile, DIR/daemon-PID.cpuprofile; sum one with bench/profile-summary.mjs).
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { arg, bringUp, deploy, liveChildrenCpu, loadavg, procStats, tearDown } from './lib/deploy-bench.mjs';

const sizes = arg('nodes', '100').split(',').map(Number);
const broadcast = arg('broadcast-env', 'BroadcastEnvKascade');
const keep = process.argv.includes('--keep');
const profileDir = arg('profile', undefined);
const profileEnv = () => {
  if (!profileDir) return {};
  const dir = path.resolve(profileDir);
  mkdirSync(dir, { recursive: true });
  const preload = path.join(import.meta.dirname, 'lib', 'cpu-profile-preload.cjs');
  const opts = `${process.env.NODE_OPTIONS ?? ''} --require ${JSON.stringify(preload)}`.trim();
  return { NODE_OPTIONS: opts, KAPLOY_BENCH_PROFILE_DIR: dir };
};
/** The preload starts the profiler at the first SIGUSR2 and writes the profile at the second. */
const toggleProfiles = (site, wait) => {
  if (!profileDir) return;
  const pids = [site.enginePid, site.daemonPid];
  for (const pid of pids) process.kill(pid, 'SIGUSR2');
  if (!wait) return;
  const files = readdirSync(path.resolve(profileDir));
  const end = Date.now() + 60_000;
  while (Date.now() < end && !pids.every((pid) => files.some((f) => f.endsWith(`-${pid}.cpuprofile`)))) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    files.splice(0, files.length, ...readdirSync(path.resolve(profileDir)));
  }
  console.error(`profiles in ${path.resolve(profileDir)}`);
};

const cols = [
  'nodes',
  'wall_s',
  'per_node_ms',
  'ok',
  'engine_cpu_s',
  'engine_sys_s',
  'engine_ms_node',
  'engine_peak_MiB',
  'daemon_cpu_s',
  'daemon_sys_s',
  'daemon_ms_node',
  'sandboxes_cpu_s',
  'daemon_peak_MiB',
  'client_cpu_s',
  'client_peak_MiB',
  'loadavg_before',
  'loadavg_after',
];
console.log(cols.join('  '));
for (const n of sizes) {
  const site = bringUp(n, { bootDelayMs: 0, env: profileEnv() });
  try {
    const load0 = loadavg();
    const e0 = procStats(site.enginePid);
    const d0 = procStats(site.daemonPid);
    const h0 = liveChildrenCpu(site.daemonPid);
    const steps = `SetDeploymentEnv|SetDeploymentEnvUntrusted:0:1200&BroadcastEnv|${broadcast}:0:1200&BootNewEnv|BootNewEnvClassical:0:1200`;
    toggleProfiles(site, false);
    const r = deploy(site, steps);
    const e1 = procStats(site.enginePid);
    const d1 = procStats(site.daemonPid);
    const h1 = liveChildrenCpu(site.daemonPid);
    toggleProfiles(site, true);
    const load1 = loadavg();
    if (r.ok < n) {
      console.error(r.stdout.slice(-3000), r.stderr.slice(-3000));
      try {
        console.error(readFileSync(path.join(site.dir, 'ko'), 'utf8').slice(0, 3000));
      } catch {}
    }
    const row = [
      n,
      r.wall.toFixed(1),
      ((r.wall * 1000) / n).toFixed(1),
      r.ok,
      (e1.cpu - e0.cpu).toFixed(1),
      (e1.sys - e0.sys).toFixed(1),
      (((e1.cpu - e0.cpu) * 1000) / n).toFixed(2),
      e1.peakMiB.toFixed(0),
      (d1.cpu - d0.cpu).toFixed(1),
      (d1.sys - d0.sys).toFixed(1),
      (((d1.cpu - d0.cpu) * 1000) / n).toFixed(2),
      (d1.childCpu - d0.childCpu + h1 - h0).toFixed(1),
      d1.peakMiB.toFixed(0),
      r.client.cpu.toFixed(1),
      r.client.peakMiB.toFixed(0),
      load0,
      load1,
    ];
    console.log(row.map((s, i) => String(s).padStart(i === 0 ? 5 : cols[i].length)).join('  '));
  } finally {
    tearDown(site, keep);
  }
}
