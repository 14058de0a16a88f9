#!/usr/bin/env node
// Three sites at once against the slowest alone: kadeploy3 on each virtual site by itself, then
// kadeploy3 -M over the three, and the ratio of the -M run's total to the slowest site alone
// (issue target: within 5 %). The sites' boots take --boot-delay ms, so the runs wait on boots as
// real ones do. On one machine the three sites' virtual nodes share its cores, which real sites do
// not: so the bench also runs three separate kadeploy3 at the same time, one per site, and the
// ratio of -M to that is what the orchestrator itself adds.
// Every client runs under /usr/bin/time with its output through a pipe (CPU and peak RSS printed);
// runs alternate whether -M or the three separate clients go first (the second is the slower).
// Usage: npm run build && node bench/grid-scale.mjs [--nodes 100] [--boot-delay 5000] [--runs 2]
import { spawn } from 'node:child_process';
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

/**
 * kadeploy3 with these arguments under this client configuration, under /usr/bin/time: wall
 * seconds, exit, OK nodes, the client's CPU seconds (user + system) and peak RSS. Every client of
 * the bench (a site alone, the three at once, -M) runs this way, its output read through a pipe,
 * so they differ only in what they are asked.
 */
function kadeploy(config, args, tokenFile) {
  const env = { ...process.env, KAPLOY_CLIENT_CONFIG: config };
  delete env.KAPLOY_TOKEN_DIR;
  if (tokenFile) env.KAPLOY_TOKEN_FILE = tokenFile;
  else delete env.KAPLOY_TOKEN_FILE;
  const t0 = process.hrtime.bigint();
  const child = spawn(
    '/usr/bin/time',
    [
      '-f',
      'TIME %U %S %M',
      process.execPath,
      cli('kadeploy3'),
      '-e',
      'tiny-x64-base',
      '-u',
      'deploy',
      ...args,
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d) => {
    out += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d) => {
    err += d;
  });
  return new Promise((resolve) =>
    child.on('close', (code) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      const t = /TIME ([\d.]+) ([\d.]+) (\d+)\s*$/.exec(err);
      const ok = (out.split('The deployment is successful on nodes\n')[1] ?? '')
        .split('\n\n')[0]
        .split('\n')
        .filter(Boolean).length;
      if (code !== 0) process.stderr.write(err.slice(-2000));
      resolve({
        wall,
        code,
        ok,
        cpu: t ? Number(t[1]) + Number(t[2]) : Number.NaN,
        rssMiB: t ? Number(t[3]) / 1024 : Number.NaN,
      });
    }),
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
    'run  site_a_s  site_b_s  site_c_s  slowest_alone_s  three_at_once_s  grid_M_s  M/slowest_alone  M/three_at_once  three_client_cpu_s  M_client_cpu_s  M_peak_MiB  ok_M  exit_M  order  loadavg',
  );
  for (let r = 1; r <= runs; r++) {
    const alone = [];
    for (const st of sites)
      alone.push(
        await kadeploy(
          path.join(st.dir, 'client.yaml'),
          ['-f', path.join(st.dir, 'nodes')],
          path.join(st.dir, 'tokens', user),
        ),
      );
    for (const [i, a] of alone.entries())
      if (a.code !== 0) throw new Error(`site ${names[i]} alone: kadeploy3 exited ${a.code}`);
    const slowest = Math.max(...alone.map((a) => a.wall));
    const threeAtOnce = async () => {
      const t0 = process.hrtime.bigint();
      const together = await Promise.all(
        sites.map((st) =>
          kadeploy(
            path.join(st.dir, 'client.yaml'),
            ['-f', path.join(st.dir, 'nodes')],
            path.join(st.dir, 'tokens', user),
          ),
        ),
      );
      for (const [i, a] of together.entries())
        if (a.code !== 0) throw new Error(`site ${names[i]} (three at once): kadeploy3 exited ${a.code}`);
      return {
        wall: Number(process.hrtime.bigint() - t0) / 1e9,
        cpu: together.reduce((x, a) => x + a.cpu, 0),
      };
    };
    const all = sites.flatMap(nodesOf);
    const gridM = () => kadeploy(grid, ['-M', ...all.flatMap((n) => ['-m', n])]);
    // Alternate which goes first, so that neither always runs on the sites the other just used.
    let three;
    let m;
    if (r % 2 === 1) {
      three = await threeAtOnce();
      m = await gridM();
    } else {
      m = await gridM();
      three = await threeAtOnce();
    }
    console.log(
      [
        r,
        ...alone.map((a) => a.wall.toFixed(2)),
        slowest.toFixed(2),
        three.wall.toFixed(2),
        m.wall.toFixed(2),
        (m.wall / slowest).toFixed(3),
        (m.wall / three.wall).toFixed(3),
        three.cpu.toFixed(2),
        m.cpu.toFixed(2),
        m.rssMiB.toFixed(0),
        `${m.ok}/${all.length}`,
        m.code,
        r % 2 === 1 ? 'three,M' : 'M,three',
        loadavg(),
      ].join('  '),
    );
  }
} finally {
  for (const s of sites) tearDown(s);
}
