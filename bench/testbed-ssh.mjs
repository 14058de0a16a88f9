#!/usr/bin/env node
// Benchmark: start a virtual site of N nodes (N = 100, 500 by default, or the arguments), open SSH
// to every node with the engine's SSH transport and run `hostname` on each with bounded
// concurrency, then `true` again on the open connections. Prints wall time, per-node cost, CPU time
// and peak RSS of the daemon and of this client. Needs `npm run build`.
// Usage: node bench/testbed-ssh.mjs [N...] [--concurrency C]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pMap from 'p-map';
import ssh2 from 'ssh2';

const args = process.argv.slice(2);
const ci = args.indexOf('--concurrency');
const concurrency = ci >= 0 ? Number(args.splice(ci, 2)[1]) : 64;
const sizes = args.length ? args.map(Number) : [100, 500];

const { testbedUp, testbedDown, testbedLayout } = await import('../dist/testbed/index.js');
// The engine's transport when built; otherwise plain ssh2 (said in the output).
const transport = await import('../dist/engine/ssh/index.js').catch(() => undefined);

const USER_HZ = 100; // Linux clock ticks in /proc/PID/stat
function procStats(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return {
    cpuS: (Number(f[11]) + Number(f[12])) / USER_HZ,
    // Commands run in sandboxes (bwrap) the daemon spawns and reaps: their CPU counts here.
    childCpuS: (Number(f[13]) + Number(f[14])) / USER_HZ,
    peakRssMB: hwm ? Number(hwm[1]) / 1024 : Number.NaN,
  };
}

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

function poolRunner(nodes, port, key) {
  // The host keys the testbed wrote to DIR/known_hosts, pinned as the engine pins them.
  const hostKeys = new transport.MemoryHostKeyStore();
  for (const n of nodes) hostKeys.learn(n.name, n.hostKey);
  const pool = new transport.SshPool({ privateKey: key, hostKeys, connectTimeoutMs: 60_000 });
  return {
    name: 'SshPool from dist/engine/ssh',
    run: async (n, cmd) => {
      const r = await pool.exec({ node: n.name, host: n.address, port, username: 'root' }, cmd);
      if (r.exitCode !== 0) throw new Error(`${n.name}: exit ${r.exitCode} ${r.stderr}`);
      return r.stdout;
    },
    close: () => pool.closeAll(),
  };
}

function plainRunner(_l, port, key) {
  const conns = new Map();
  const connect = (n) =>
    new Promise((resolve, reject) => {
      const c = new ssh2.Client();
      c.once('error', reject);
      c.once('ready', () => resolve(c));
      c.connect({ host: n.address, port, username: 'root', privateKey: key, readyTimeout: 60_000 });
    });
  return {
    name: 'plain ssh2 Client (SshPool not built)',
    run: async (n, cmd) => {
      if (!conns.has(n.name)) conns.set(n.name, await connect(n));
      const c = conns.get(n.name);
      return new Promise((resolve, reject) =>
        c.exec(cmd, (err, ch) => {
          if (err) return reject(err);
          let out = '';
          ch.on('data', (d) => {
            out += d;
          });
          ch.stderr.resume();
          ch.once('close', () => resolve(out));
        }),
      );
    },
    close: async () => {
      for (const c of conns.values()) c.end();
    },
  };
}

const fmt = (x, d = 2) => x.toFixed(d);
for (const n of sizes) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `kaploy-bench-${n}-`));
  const l = testbedLayout(dir);
  const sshPort = await freePort();
  const t0 = performance.now();
  const up = await testbedUp({ nodes: n, site: `bench${n}`, dir, bootDelay: 0, sshPort });
  const upS = (performance.now() - t0) / 1000;
  const nodes = readFileSync(l.knownHosts, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [hosts, , blob] = line.split(' ');
      const [address, name] = hosts.split(',').map((h) => h.replace(/^\[(.*)\]:\d+$/, '$1'));
      return { address, name, hostKey: Buffer.from(blob, 'base64') };
    });
  const key = readFileSync(l.engineKey);
  const runner = transport ? poolRunner(nodes, sshPort, key) : plainRunner(l, sshPort, key);
  try {
    const daemon0 = procStats(up.pid);
    const cpu0 = process.cpuUsage();
    const t1 = performance.now();
    const outs = await pMap(nodes, (node) => runner.run(node, 'hostname'), { concurrency });
    const wall1 = (performance.now() - t1) / 1000;
    const t2 = performance.now();
    await pMap(nodes, (node) => runner.run(node, 'true'), { concurrency });
    const wall2 = (performance.now() - t2) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const daemon1 = procStats(up.pid);
    const empty = outs.filter((o) => !o.trim()).length;
    console.log(
      [
        `N=${n}: ${runner.name}, concurrency ${concurrency}, ${os.cpus().length} CPUs`,
        `  testbed up (files, keys, ${n} nodes booted): ${fmt(upS)} s`,
        `  connect + hostname on every node: ${fmt(wall1)} s wall, ${fmt((wall1 * 1000) / n)} ms/node${empty ? ` (${empty} empty outputs!)` : ''}`,
        `  true on the open connections:     ${fmt(wall2)} s wall, ${fmt((wall2 * 1000) / n)} ms/node`,
        `  client: CPU ${fmt((cpu.user + cpu.system) / 1e6)} s over both rounds, peak RSS ${fmt(process.resourceUsage().maxRSS / 1024, 0)} MB`,
        `  daemon: CPU ${fmt(daemon1.cpuS - daemon0.cpuS)} s over both rounds + ${fmt(daemon1.childCpuS - daemon0.childCpuS)} s in its sandboxes (${fmt(daemon1.cpuS)} s + ${fmt(daemon1.childCpuS)} s since start), peak RSS ${fmt(daemon1.peakRssMB, 0)} MB`,
      ].join('\n'),
    );
  } finally {
    await runner.close();
    const t3 = performance.now();
    await testbedDown(dir);
    console.log(`  testbed down: ${fmt((performance.now() - t3) / 1000)} s`);
    rmSync(dir, { recursive: true, force: true });
  }
}
