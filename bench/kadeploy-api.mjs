#!/usr/bin/env node
// Kadeploy-compatible listener overhead: the same reads through kaploy's API (Bearer) and through
// the Kadeploy dialect (Basic, trusted-proxy header), sequential on one keep-alive connection;
// prints mean latency and requests per second of each, and the load average.
// Usage: npm run build && node bench/kadeploy-api.mjs [--requests 2000]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { silentLogger } from '../dist/common/logger.js';
import { loadSiteConfig } from '../dist/common/site-config.js';
import { kadeployApiUrl } from '../dist/engine/kadeploy-api/listener.js';
import { enrolUsers, startEngine } from '../dist/engine/main.js';

const i = process.argv.indexOf('--requests');
const N = i > 0 ? Number(process.argv[i + 1]) : 2000;
const dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-bench-kaapi-'));
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

try {
  const file = path.join(dir, 'site.yaml');
  writeFileSync(
    file,
    stringify({
      site: 'bench',
      data_dir: path.join(dir, 'data'),
      admins: ['root', 'bench'],
      ssh: { key: path.join(dir, 'engine-key') },
      clusters: [{ name: 'c1', nodes: { names: 'node-[1-64].bench', addresses: '127.0.9.[1-64]' } }],
      kadeploy_api: { enabled: true, port: 0, host: '127.0.0.1', trusted_proxies: ['127.0.0.1'] },
    }),
  );
  const config = loadSiteConfig(file);
  const { execFileSync } = await import('node:child_process');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', config.ssh.keyFile]);
  const [{ file: tokenFile }] = enrolUsers(config, [{ user: 'bench', out: path.join(dir, 'token') }]);
  const token = readFileSync(tokenFile, 'utf8').trim();
  const server = await startEngine(config, { port: 0, host: '127.0.0.1', logger: silentLogger });
  try {
    const kadeploy = kadeployApiUrl(server.ctx);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (base, p, headers) =>
      new Promise((resolve, reject) => {
        const u = new URL(base + p);
        http
          .get({ host: u.hostname, port: u.port, path: u.pathname + u.search, headers, agent }, (res) => {
            res.resume();
            res.on('end', () =>
              res.statusCode === 200 ? resolve() : reject(new Error(`${p}: ${res.statusCode}`)),
            );
          })
          .on('error', reject);
      });
    const bearer = { authorization: `Bearer ${token}` };
    const basic = { authorization: `Basic ${Buffer.from(`bench:${token}`).toString('base64')}` };
    const proxy = { 'X-Kadeploy-User': 'bench' };
    const cases = [
      ['native GET /nodes (Bearer)', server.url, '/nodes', bearer],
      ['kadeploy GET /nodes (Basic)', kadeploy, '/nodes?list', basic],
      ['kadeploy GET /nodes (proxy header)', kadeploy, '/nodes?list', proxy],
      ['native GET /environments', server.url, '/environments', bearer],
      ['kadeploy GET /environments?last=true', kadeploy, '/environments?last=true', basic],
      ['kadeploy GET /version (no credentials)', kadeploy, '/version', {}],
    ];
    console.log(`requests per case: ${N}; load average before: ${load()}`);
    console.log('case'.padEnd(42), 'mean_us'.padStart(8), 'req_per_s'.padStart(10));
    for (const [name, base, p, headers] of cases) {
      for (let k = 0; k < 100; k++) await get(base, p, headers); // warm-up
      const t0 = process.hrtime.bigint();
      for (let k = 0; k < N; k++) await get(base, p, headers);
      const us = Number(process.hrtime.bigint() - t0) / 1000 / N;
      console.log(name.padEnd(42), us.toFixed(0).padStart(8), (1e6 / us).toFixed(0).padStart(10));
    }
    console.log(`load average after: ${load()}`);
    agent.destroy();
  } finally {
    await server.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
