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
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { flood } from './lib/idle-flood.mjs';

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

try {
  const { child, port } = await startEngine();
  try {
    const one = await flood(port, ['127.0.0.1'], N);
    const many = await flood(
      port,
      Array.from({ length: 100 }, (_, i) => `127.0.1.${i + 1}`),
      N,
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
        `| ${name} | ${r.connected} | ${r.atOnce} | ${r.byTimeout} | ${r.open} | ${r.during.text} | ${r.after.text} |`,
      );
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
