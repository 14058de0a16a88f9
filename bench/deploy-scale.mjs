#!/usr/bin/env node
// Engine overhead: deploy the tiny environment on N zero-delay virtual nodes and print wall time,
// per-node overhead, CPU time and peak memory of the engine and of the node daemon.
// Usage: npm run build && node bench/deploy-scale.mjs --nodes 100,1000 [--broadcast-env BroadcastEnvKascade]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const cli = (n) => path.join(root, 'dist', 'cli', `${n}.js`);
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const sizes = arg('nodes', '100').split(',').map(Number);
const broadcast = arg('broadcast-env', 'BroadcastEnvKascade');
const tick = os.constants ? 100 : 100; // USER_HZ on Linux

function procStats(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const cpu = (Number(stat[11]) + Number(stat[12]) + Number(stat[13]) + Number(stat[14])) / tick; // utime+stime+children
  const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return { cpu, peakMiB: Number(hwm) / 1024 };
}

console.log('nodes  wall_s  per_node_ms  ok  engine_cpu_s  engine_peak_MiB  daemon_cpu_s  daemon_peak_MiB');
for (const n of sizes) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `kaploy-bench-${n}-`));
  try {
    execFileSync(process.execPath, [cli('kaploy'), 'testbed', 'up', '--nodes', String(n), '--dir', dir, '--site', 'bench', '--boot-delay', '0'], { stdio: 'ignore' });
    const enginePid = Number(readFileSync(path.join(dir, 'engine.pid'), 'utf8'));
    const daemonPid = JSON.parse(readFileSync(path.join(dir, 'testbed.json'), 'utf8')).pid;
    const e0 = procStats(enginePid);
    const d0 = procStats(daemonPid);
    const env = { ...process.env, KAPLOY_CLIENT_CONFIG: path.join(dir, 'client.yaml'), KAPLOY_TOKEN_FILE: path.join(dir, 'tokens', os.userInfo().username) };
    const steps = `SetDeploymentEnv|SetDeploymentEnvUntrusted:0:600&BroadcastEnv|${broadcast}:0:600&BootNewEnv|BootNewEnvClassical:0:600`;
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [cli('kadeploy3'), '-e', 'tiny-x64-base', '-f', path.join(dir, 'nodes'), '-V', '0', '--force-steps', steps, '-o', path.join(dir, 'ok')], { env, encoding: 'utf8' });
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const e1 = procStats(enginePid);
    const d1 = procStats(daemonPid);
    let ok = 0;
    try {
      ok = readFileSync(path.join(dir, 'ok'), 'utf8').trim().split('\n').filter(Boolean).length;
    } catch {}
    if (r.status !== 0 && ok === 0) console.error(r.stdout.slice(-2000), r.stderr.slice(-2000));
    console.log(
      [n, wall.toFixed(1), ((wall * 1000) / n).toFixed(1), ok, (e1.cpu - e0.cpu).toFixed(1), e1.peakMiB.toFixed(0), (d1.cpu - d0.cpu).toFixed(1), d1.peakMiB.toFixed(0)]
        .map(String)
        .map((s, i) => s.padStart(i === 0 ? 5 : 8))
        .join(' '),
    );
  } finally {
    spawnSync(process.execPath, [cli('kaploy'), 'testbed', 'down', '--dir', dir], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
}
