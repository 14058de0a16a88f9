#!/usr/bin/env node
// Three sites at once against the slowest alone: kadeploy3 on each virtual site by itself, then
// kadeploy3 -M over the three, and the ratio of the -M run's total to the slowest site alone
// (issue target: within 5 %). The sites' boots take --boot-delay ms, so the runs wait on boots as
// real ones do. On one machine the three sites' virtual nodes share its cores, which real sites do
// not: so the bench also runs three separate kadeploy3 at the same time, one per site, and the
// ratio of -M to that is what the orchestrator itself adds.
// Usage: npm run build && node bench/grid-scale.mjs [--nodes 100] [--boot-delay 5000] [--runs 1]
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { arg, bringUp, loadavg, tearDown } from './lib/deploy-bench.mjs';

const root = path.resolve(import.meta.dirname, '..');
const cli = (n) => path.join(root, 'dist', 'cli', `${n}.js`);
const nodes = Number(arg('nodes', '100'));
const bootDelayMs = Number(arg('boot-delay', '5000'));
const runs = Number(arg('runs', '1'));
const user = os.userInfo().username;
const names = ['gscalea', 'gscaleb', 'gscalec'];

const nodesOf = (s) => readFileSync(path.join(s.dir, 'nodes'), 'utf8').trim().split('\n');
const url = (s) => /url:\s*"?([^"\s}]+)/.exec(readFileSync(path.join(s.dir, 'client.yaml'), 'utf8'))[1];

/** kadeploy3 with these arguments under this client configuration: wall seconds, exit, OK nodes. */
function kadeploy(config, args, tokenFile) {
  const env = { ...process.env, KAPLOY_CLIENT_CONFIG: config };
  delete env.KAPLOY_TOKEN_DIR;
  if (tokenFile) env.KAPLOY_TOKEN_FILE = tokenFile;
  else delete env.KAPLOY_TOKEN_FILE;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [cli('kadeploy3'), '-e', 'tiny-x64-base', '-u', 'deploy', ...args], {
    env,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const ok = (r.stdout.split('The deployment is successful on nodes\n')[1] ?? '')
    .split('\n\n')[0]
    .split('\n')
    .filter(Boolean).length;
  if (r.status !== 0) process.stderr.write(r.stderr.slice(-2000));
  return { wall, code: r.status, ok };
}

/** The same, without waiting: resolves when it ends (three at once). */
function kadeployAsync(config, args, tokenFile) {
  const env = { ...process.env, KAPLOY_CLIENT_CONFIG: config, KAPLOY_TOKEN_FILE: tokenFile };
  delete env.KAPLOY_TOKEN_DIR;
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [cli('kadeploy3'), '-e', 'tiny-x64-base', '-u', 'deploy', ...args], {
    env,
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  return new Promise((resolve) =>
    child.on('close', (code) => resolve({ wall: Number(process.hrtime.bigint() - t0) / 1e9, code })),
  );
}

const sites = [];
try {
  for (const name of names) sites.push(bringUp(nodes, { site: name, bootDelayMs }));
  const grid = path.join(sites[0].dir, 'grid-client.yaml');
  writeFileSync(
    grid,
    [
      'servers:',
      ...sites.map(
        (s, i) => `  ${names[i]}: { url: "${url(s)}", token_file: "${path.join(s.dir, 'tokens', user)}" }`,
      ),
      '',
    ].join('\n'),
  );
  console.log(`3 sites x ${nodes} virtual nodes, boot delay ${bootDelayMs} ms`);
  console.log(
    'run  site_a_s  site_b_s  site_c_s  slowest_alone_s  three_at_once_s  grid_M_s  M/slowest_alone  M/three_at_once  ok_M  exit_M  loadavg',
  );
  for (let r = 1; r <= runs; r++) {
    const alone = sites.map((s) =>
      kadeploy(
        path.join(s.dir, 'client.yaml'),
        ['-f', path.join(s.dir, 'nodes')],
        path.join(s.dir, 'tokens', user),
      ),
    );
    for (const [i, a] of alone.entries())
      if (a.code !== 0) throw new Error(`site ${names[i]} alone: kadeploy3 exited ${a.code}`);
    const slowest = Math.max(...alone.map((a) => a.wall));
    const t0 = process.hrtime.bigint();
    const together = await Promise.all(
      sites.map((s) =>
        kadeployAsync(
          path.join(s.dir, 'client.yaml'),
          ['-f', path.join(s.dir, 'nodes')],
          path.join(s.dir, 'tokens', user),
        ),
      ),
    );
    const atOnce = Number(process.hrtime.bigint() - t0) / 1e9;
    for (const [i, a] of together.entries())
      if (a.code !== 0) throw new Error(`site ${names[i]} (three at once): kadeploy3 exited ${a.code}`);
    const all = sites.flatMap(nodesOf);
    const m = kadeploy(grid, ['-M', ...all.flatMap((n) => ['-m', n])]);
    console.log(
      [
        r,
        ...alone.map((a) => a.wall.toFixed(2)),
        slowest.toFixed(2),
        atOnce.toFixed(2),
        m.wall.toFixed(2),
        (m.wall / slowest).toFixed(3),
        (m.wall / atOnce).toFixed(3),
        `${m.ok}/${all.length}`,
        m.code,
        loadavg(),
      ].join('  '),
    );
  }
} finally {
  for (const s of sites) tearDown(s);
}
