// Cost of SSH against a real OpenSSH server on loopback (Debian's sshd, started by
// scripts/start-test-sshd.sh with a /bin/sh login user): a fresh connection (connect, key
// exchange, auth, one command, close) and a command over an already open connection, for the
// engine (ssh2 through SshPool) per key exchange, and for the OpenSSH client for comparison.
// CPU figures: the engine's own process; sshd's from its reaped children (cutime+cstime of the
// listener); the ssh client's from `times`.
//
//   npm run build && node bench/ssh-openssh.mjs [--connections 40] [--commands 200]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPortOpen } from '../dist/engine/net/port-check.js';
import { MemoryHostKeyStore, PREFERRED_ALGORITHMS, SshPool } from '../dist/engine/ssh/index.js';

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return Number(i >= 0 ? process.argv[i + 1] : dflt);
}
const connections = arg('connections', 40);
const commands = arg('commands', 200);

const dir = mkdtempSync(join(tmpdir(), 'kaploy-bench-sshd-'));
const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const sshd = spawn(new URL('../scripts/start-test-sshd.sh', import.meta.url).pathname, [dir, String(port)], {
  stdio: ['ignore', 'inherit', 'inherit'],
});
while (!(await isPortOpen('127.0.0.1', port, 500))) await new Promise((r) => setTimeout(r, 50));
const username = readFileSync(join(dir, 'user'), 'utf8').trim();
const engineKey = readFileSync(join(dir, 'engine'), 'utf8');
const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

/** CPU ms of sshd's finished per-connection children (the listener is sshd's pid after exec). */
function sshdChildrenCpuMs() {
  const stat = readFileSync(`/proc/${sshd.pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[13]) + Number(f[14])) * 1000) / ticks; // cutime, cstime
}
const cpuMs = (u) => (u.user + u.system) / 1000;
const fmt = (x) => x.toFixed(1);
const target = { node: 'bench-node', host: '127.0.0.1', port, username };

async function engineFresh(kex) {
  const pool = new SshPool({
    privateKey: engineKey,
    hostKeys: new MemoryHostKeyStore(),
    algorithms: { ...PREFERRED_ALGORITHMS, kex: [kex] },
  });
  await pool.exec(target, 'true', { trustOnFirstUse: true }); // warm-up
  await pool.closeAll();
  await new Promise((r) => setTimeout(r, 200)); // let sshd reap the warm-up child
  const s0 = sshdChildrenCpuMs();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < connections; i++) {
    await pool.exec(target, 'true');
    await pool.closeAll();
  }
  const wall = (performance.now() - t0) / connections;
  const engine = cpuMs(process.cpuUsage(c0)) / connections;
  await new Promise((r) => setTimeout(r, 300));
  const server = (sshdChildrenCpuMs() - s0) / connections;
  process.stdout.write(
    `engine (ssh2) fresh connection, kex ${kex}: wall ${fmt(wall)} ms, engine CPU ${fmt(engine)} ms, sshd CPU ${fmt(server)} ms\n`,
  );
}

async function engineReuse() {
  const pool = new SshPool({ privateKey: engineKey, hostKeys: new MemoryHostKeyStore() });
  await pool.exec(target, 'true', { trustOnFirstUse: true });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < commands; i++) await pool.exec(target, 'true');
  const wall = (performance.now() - t0) / commands;
  const engine = cpuMs(process.cpuUsage(c0)) / commands;
  await pool.closeAll();
  process.stdout.write(
    `engine (ssh2) command on an open connection: wall ${fmt(wall)} ms, engine CPU ${fmt(engine)} ms (sequential)\n`,
  );
}

function opensshClient(kexOption) {
  const opts = [
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    `UserKnownHostsFile=${join(dir, 'known_hosts')}`,
    '-o',
    'LogLevel=ERROR',
    '-i',
    join(dir, 'engine'),
    '-p',
    String(port),
    ...(kexOption ? ['-o', `KexAlgorithms=${kexOption}`] : []),
  ]
    .map((o) => `'${o}'`)
    .join(' ');
  const s0 = sshdChildrenCpuMs();
  const t0 = performance.now();
  const out = execFileSync(
    'sh',
    [
      '-c',
      `i=0; while [ $i -lt ${connections} ]; do ssh ${opts} ${username}@127.0.0.1 true; i=$((i+1)); done; times`,
    ],
    { encoding: 'utf8' },
  );
  const wall = (performance.now() - t0) / connections;
  // `times`: shell user/sys, then children user/sys, as 0m0.123s
  const line = out.trim().split('\n').at(-1) ?? '';
  const secs = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  const client = (((secs[0] ?? 0) + (secs[1] ?? 0)) * 1000) / connections;
  return new Promise((r) => setTimeout(r, 300)).then(() => {
    const server = (sshdChildrenCpuMs() - s0) / connections;
    process.stdout.write(
      `OpenSSH client fresh connection, kex ${kexOption ?? 'default'}: wall ${fmt(wall)} ms, client CPU ${fmt(client)} ms, sshd CPU ${fmt(server)} ms\n`,
    );
  });
}

try {
  process.stdout.write(spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr);
  for (const kex of [
    'curve25519-sha256',
    'ecdh-sha2-nistp256',
    'diffie-hellman-group14-sha256',
    'diffie-hellman-group16-sha512',
  ]) {
    await engineFresh(kex);
  }
  await engineReuse();
  await opensshClient(undefined);
  await opensshClient('curve25519-sha256');
} finally {
  sshd.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
