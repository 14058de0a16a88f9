#!/usr/bin/env node
// Idle-connection flood against a real engine process: N TCP connections that send nothing, from
// one address (127.0.0.1) or spread over 100 addresses (127.0.1.x), while another address
// (127.0.0.2) sends requests. Prints how many flood connections the engine kept, how long the
// legitimate requests took during the flood, and how long until the engine had closed every flood
// connection (max_connections_per_address, max_connections, header_timeout: site configuration).
// (Sockets the kernel never completed, its accept queue full, are not counted as connected.)
// Usage: npm run build && node bench/idle-connections.mjs [--connections 19000]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('--connections', 19_000);
const root = path.resolve(import.meta.dirname, '..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-bench-idle-'));

function startEngine() {
  const file = path.join(dir, 'site.yaml');
  writeFileSync(
    file,
    stringify({
      site: 'bench',
      data_dir: path.join(dir, 'data'),
      ssh: { key: path.join(dir, 'engine-key') },
      clusters: [{ name: 'c1', nodes: { names: 'node-[1-4].bench', addresses: '127.0.9.[1-4]' } }],
    }),
  );
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'engine-key')]);
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(root, 'dist/cli/kaploy.js'), 'server', '-c', file, '--port', '0'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, KAPLOY_LOG_LEVEL: 'error' },
      },
    );
    child.stdout.on('data', (d) => {
      const m = /listening on (http:\/\/\S+)/.exec(String(d));
      if (m) resolve({ child, port: Number(new URL(m[1]).port) });
    });
    child.once('exit', (c) => reject(new Error(`engine exited ${c}`)));
  });
}

/** One GET from `from`; resolves with the time to the first byte of the answer, or 'refused'. */
function request(port, from) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s = net.connect({ host: '127.0.0.1', port, localAddress: from });
    let answered = false;
    s.once('connect', () => s.write('GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    s.once('data', () => {
      answered = true;
      resolve(performance.now() - t0);
      s.destroy();
    });
    s.once('error', () => undefined);
    s.once('close', () => {
      if (!answered) resolve('refused');
    });
    s.setTimeout(15_000, () => s.destroy());
  });
}

async function flood(port, addresses) {
  const socks = [];
  for (let i = 0; i < N; i++) {
    const s = net.connect({ host: '127.0.0.1', port, localAddress: addresses[i % addresses.length] });
    const rec = { s, connected: 0, closed: 0 };
    s.once('connect', () => {
      rec.connected = performance.now();
    });
    s.once('error', () => undefined);
    s.once('close', () => {
      rec.closed = performance.now();
    });
    socks.push(rec);
  }
  const probe = async () => {
    const times = [];
    for (let i = 0; i < 10; i++) times.push(await request(port, '127.0.0.2'));
    const ok = times.filter((t) => t !== 'refused').sort((a, b) => a - b);
    return `${ok.length}/10${ok.length ? ` (${ok[Math.floor(ok.length / 2)].toFixed(1)} ms)` : ''}`;
  };
  await new Promise((r) => setTimeout(r, 2000));
  const during = await probe();
  await new Promise((r) => setTimeout(r, 13_000));
  const after = await probe();
  const connected = socks.filter((r) => r.connected > 0);
  const atOnce = connected.filter((r) => r.closed > 0 && r.closed - r.connected < 1000).length;
  const byTimeout = connected.filter((r) => r.closed > 0 && r.closed - r.connected >= 1000).length;
  const open = connected.filter((r) => r.closed === 0).length;
  for (const r of socks) r.s.destroy();
  return { connected: connected.length, atOnce, byTimeout, open, during, after };
}

try {
  const { child, port } = await startEngine();
  try {
    const one = await flood(port, ['127.0.0.1']);
    const many = await flood(
      port,
      Array.from({ length: 100 }, (_, i) => `127.0.1.${i + 1}`),
    );
    console.log(
      `idle connections: ${N} that send nothing, load ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}`,
    );
    console.log(
      '| flood from | connected | closed at once | closed by header_timeout | open after 15 s | another address at 2 s | at 15 s |',
    );
    console.log('|---|---|---|---|---|---|---|');
    for (const [name, r] of [
      ['1 address', one],
      ['100 addresses', many],
    ])
      console.log(
        `| ${name} | ${r.connected} | ${r.atOnce} | ${r.byTimeout} | ${r.open} | ${r.during} | ${r.after} |`,
      );
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
