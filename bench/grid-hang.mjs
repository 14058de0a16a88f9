#!/usr/bin/env node
// A site that hangs: kadeploy3 -M over three virtual sites, one engine stopped with SIGSTOP in the
// middle of its deployment; prints the time from the stop to the run's end (target: server_timeout + 2 s).
// Usage: npm run build && node bench/grid-hang.mjs [--timeout 10] [--nodes 2] [--runs 3]
// The other two sites finish well before the deadline, so the run's end is the hung site's loss.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { arg, bringUp, loadavg, tearDown } from './lib/deploy-bench.mjs';

const root = path.resolve(import.meta.dirname, '..');
const cli = (n) => path.join(root, 'dist', 'cli', `${n}.js`);
const timeoutS = Number(arg('timeout', '10'));
const nodes = Number(arg('nodes', '2'));
const runs = Number(arg('runs', '3'));
const user = os.userInfo().username;
const names = ['hanga', 'hangb', 'hangc'];

const sites = [];
try {
  for (const name of names) sites.push(bringUp(nodes, { site: name, bootDelayMs: 0 }));
  const config = path.join(sites[0].dir, 'grid-client.yaml');
  const url = (s) => /url:\s*"?([^"\s}]+)/.exec(readFileSync(path.join(s.dir, 'client.yaml'), 'utf8'))[1];
  writeFileSync(
    config,
    [
      `server_timeout: ${timeoutS}`,
      'servers:',
      ...sites.map(
        (s, i) => `  ${names[i]}: { url: "${url(s)}", token_file: "${path.join(s.dir, 'tokens', user)}" }`,
      ),
      '',
    ].join('\n'),
  );
  const hung = sites[2];
  const hungNode = readFileSync(path.join(hung.dir, 'nodes'), 'utf8').trim().split('\n')[0];
  const fault = (...a) =>
    spawnSync(process.execPath, [cli('kaploy'), 'testbed', 'fault', '--dir', hung.dir, hungNode, ...a], {
      stdio: 'ignore',
    });
  console.log('run  server_timeout_s  stop_to_end_s  over_deadline_s  exit  others_ok  lost  loadavg');
  for (let r = 1; r <= runs; r++) {
    // A node that never comes back keeps the hung site's deployment running until the stop.
    fault('no_reboot', '--when', 'reboot');
    const all = sites.flatMap((s) => readFileSync(path.join(s.dir, 'nodes'), 'utf8').trim().split('\n'));
    const env = { ...process.env, KAPLOY_CLIENT_CONFIG: config };
    delete env.KAPLOY_TOKEN_FILE;
    delete env.KAPLOY_TOKEN_DIR;
    const child = spawn(
      process.execPath,
      [
        cli('kadeploy3'),
        '-M',
        ...all.flatMap((n) => ['-m', n]),
        '-e',
        'tiny-x64-base',
        '-u',
        'deploy',
        '--poll-interval',
        '100',
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let stoppedAt;
    child.stdout.on('data', (d) => {
      out += d;
      if (stoppedAt === undefined && /^\[hangc\] {2} +wait_reboot/m.test(out)) {
        process.kill(hung.enginePid, 'SIGSTOP');
        stoppedAt = process.hrtime.bigint();
      }
    });
    child.stderr.resume();
    const code = await new Promise((res) => child.on('close', (c) => res(c)));
    const end = process.hrtime.bigint();
    if (stoppedAt !== undefined) process.kill(hung.enginePid, 'SIGCONT');
    fault('clear');
    const wall = stoppedAt === undefined ? Number.NaN : Number(end - stoppedAt) / 1e9;
    const ok = (out.split('The deployment is successful on nodes\n')[1] ?? '')
      .split('\n\n')[0]
      .split('\n')
      .filter(Boolean).length;
    const lost = (out.match(/\(Server-lost: /g) ?? []).length;
    console.log(
      [r, timeoutS, wall.toFixed(2), (wall - timeoutS).toFixed(2), code, ok, lost, loadavg()].join('  '),
    );
    // Let the resumed engine give up on the stuck deployment before the next run reuses its nodes.
    spawnSync(process.execPath, [cli('kaploy'), 'testbed', 'down', '--dir', hung.dir], { stdio: 'ignore' });
    rmSync(hung.dir, { recursive: true, force: true });
    sites[2] = bringUp(nodes, { site: names[2], bootDelayMs: 0 });
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace(
        /hangc: \{[^}]*\}/,
        `hangc: { url: "${url(sites[2])}", token_file: "${path.join(sites[2].dir, 'tokens', user)}" }`,
      ),
    );
    Object.assign(hung, sites[2]);
  }
} finally {
  for (const s of sites) tearDown(s);
}
