// Shared by bench/deploy-scale.mjs and bench/deploy-model.mjs: bring a virtual site up, run
// kadeploy3 against it measuring the client, read CPU time and peak memory from /proc.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..');
const cli = (n) => path.join(root, 'dist', 'cli', `${n}.js`);

export const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};

export const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join('/');

const TICK = 100; // USER_HZ on Linux

/** CPU seconds of the process itself (and the system part of them) and of its waited-for children (the sandboxes), peak RSS. */
export function procStats(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const cpu = (Number(stat[11]) + Number(stat[12])) / TICK;
  const sys = Number(stat[12]) / TICK;
  const childCpu = (Number(stat[13]) + Number(stat[14])) / TICK;
  const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return { cpu, sys, childCpu, peakMiB: Number(hwm) / 1024 };
}

/**
 * CPU seconds of a process's child processes that are still running, with what they reaped: the
 * daemon's spawn helper, whose reaped children are the sandboxes.
 */
export function liveChildrenCpu(pid) {
  let total = 0;
  let kids = [];
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      kids.push(
        ...readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean),
      );
    }
  } catch {
    kids = [];
  }
  for (const k of kids) {
    try {
      const s = procStats(Number(k));
      total += s.cpu + s.childCpu;
    } catch {}
  }
  return total;
}

/**
 * `kaploy testbed up` in a fresh directory. Throws with up's own output when it fails (a site
 * of the same name still running, too many nodes...).
 */
export function bringUp(n, o = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `kaploy-bench-${n}-`));
  const args = [
    cli('kaploy'),
    'testbed',
    'up',
    '--nodes',
    String(n),
    '--dir',
    dir,
    '--site',
    o.site ?? 'bench',
  ];
  args.push('--boot-delay', String(o.bootDelayMs ?? 0));
  if (o.nicRate) args.push('--nic-rate', String(o.nicRate));
  if (o.firmwareDelayMs) args.push('--firmware-delay', String(o.firmwareDelayMs));
  const up = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    env: { ...process.env, ...(o.env ?? {}) },
  });
  if (up.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`testbed up --nodes ${n} failed (${up.status}): ${up.stderr || up.stdout}`);
  }
  return {
    n,
    dir,
    enginePid: Number(readFileSync(path.join(dir, 'engine.pid'), 'utf8')),
    daemonPid: JSON.parse(readFileSync(path.join(dir, 'testbed.json'), 'utf8')).pid,
  };
}

export function tearDown(site, keep = false) {
  spawnSync(process.execPath, [cli('kaploy'), 'testbed', 'down', '--dir', site.dir], { stdio: 'ignore' });
  if (keep) console.error(`kept ${site.dir}`);
  else rmSync(site.dir, { recursive: true, force: true });
}

/**
 * Runs kadeploy3 on every node of the site and waits for it. The client's own CPU time and peak
 * RSS come from a preload that writes process.resourceUsage() at exit.
 */
export function deploy(site, steps, extra = []) {
  const usageFile = path.join(site.dir, 'client-usage.json');
  const preload = path.join(site.dir, 'client-usage.cjs');
  writeFileSync(
    preload,
    `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(usageFile)}, JSON.stringify(process.resourceUsage())));\n`,
  );
  const env = {
    ...process.env,
    KAPLOY_CLIENT_CONFIG: path.join(site.dir, 'client.yaml'),
    KAPLOY_TOKEN_FILE: path.join(site.dir, 'tokens', os.userInfo().username),
  };
  const args = ['-r', preload, cli('kadeploy3'), '-e', 'tiny-x64-base', '-f', path.join(site.dir, 'nodes')];
  args.push(
    '-V',
    '0',
    '--force-steps',
    steps,
    '-o',
    path.join(site.dir, 'ok'),
    '-n',
    path.join(site.dir, 'ko'),
  );
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [...args, ...extra], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  let ok = 0;
  try {
    ok = readFileSync(path.join(site.dir, 'ok'), 'utf8').trim().split('\n').filter(Boolean).length;
  } catch {}
  let client = { cpu: Number.NaN, peakMiB: Number.NaN };
  try {
    const u = JSON.parse(readFileSync(usageFile, 'utf8'));
    client = { cpu: (u.userCPUTime + u.systemCPUTime) / 1e6, peakMiB: u.maxRSS / 1024 };
  } catch {}
  return { wall, ok, status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', client };
}
