#!/usr/bin/env node
// Wall time of the OAR server hooks (hooks/server_prologue, hooks/server_epilogue, the real
// executables OAR runs) for deploy jobs of 10, 100 and 1,000 nodes, against the real engine (a
// virtual site of that many nodes, with the restore routes) in this process.
//
//   npm run build && node bench/oar-hooks.mjs [N...] [--runs R] [--real-oar] [--verbose]
//
// Default tier: oarstat and oarnodesetting are small scripts printing recorded OAR 2.5.9 output
// for an N-node job (so the figures are kaploy's own cost: node start, configuration, HTTP,
// SQLite). --real-oar (root; runs scripts/setup-oar.sh reset first): the same hooks with the real OAR
// commands: N bench nodes (bench-I.oarbench) are registered in OAR, a real N-node deploy job runs,
// and the hooks are run by hand as user oar against it (OAR's own runs are in /var/log/oar.log);
// the bench nodes are left Dead with deploy=NO, out of the way of other jobs.
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(path.join(ROOT, 'dist', p));
const { loadSiteConfig } = await dist('common/site-config.js');
const { silentLogger } = await dist('common/logger.js');
const { ensureEngineKey } = await dist('engine/server/engine-key.js');
const { enrolUsers, startEngine } = await dist('engine/main.js');

const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const RUNS = runsAt >= 0 ? Number(args[runsAt + 1]) : 5;
const REAL = args.includes('--real-oar');
const VERBOSE = args.includes('--verbose');
const sizes = args.filter((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--runs').map(Number);
const SIZES = sizes.length ? sizes : [10, 100, 1000];

function run(file, argv, env) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    execFile(file, argv, { env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, code: err ? err.code : 0, stdout, stderr });
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => `${(ms / 1000).toFixed(3)} s`;

async function engineFor(dir, nodes, site, addressOf, owner) {
  const siteYaml = path.join(dir, 'site.yaml');
  writeFileSync(
    siteYaml,
    stringify({
      site,
      data_dir: path.join(dir, 'data'),
      admins: ['kaadmin'],
      image_dirs: [path.join(dir, 'images')],
      ssh: { key: path.join(dir, 'keys', 'engine') },
      clusters: [{ name: 'c1', nodes: nodes.map((name, i) => ({ name, address: addressOf(i) })) }],
    }),
  );
  const config = loadSiteConfig(siteYaml);
  ensureEngineKey(config.ssh.keyFile);
  const tokenFile = path.join(dir, 'tok', 'kaadmin');
  enrolUsers(config, [{ user: 'kaadmin', out: tokenFile, ...(owner ? { owner } : {}) }]);
  // The restore routes without the worker: the bench times the hooks, not the restores.
  const server = await startEngine(config, {
    port: 0,
    host: '127.0.0.1',
    logger: silentLogger,
    restores: 'routes',
  });
  return { server, tokenFile };
}

function oarstatDoc(job, owner, nodes) {
  const rec = JSON.parse(
    readFileSync(path.join(ROOT, 'test/hook/fixtures/oarstat-deploy-finishing.json'), 'utf8'),
  );
  const e = Object.values(rec)[0];
  Object.assign(e, {
    Job_Id: job,
    owner,
    assigned_network_address: nodes,
    assigned_resources: nodes.map((_, i) => i + 1),
  });
  return JSON.stringify({ [job]: e }, null, 3);
}

async function fakeTier(n) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-bench-oar-'));
  const nodes = Array.from({ length: n }, (_, i) => `node-${i + 1}.vsite`);
  const { server, tokenFile } = await engineFor(
    dir,
    nodes,
    'vsite',
    (i) => `127.13.${Math.floor(i / 250)}.${(i % 250) + 1}`,
  );
  try {
    writeFileSync(path.join(dir, 'oarstat.out'), oarstatDoc(77, 'alice', nodes));
    writeFileSync(path.join(dir, 'oarnodesetting.out'), nodes.map((x) => `${x} --> Absent\n`).join(''));
    for (const name of ['oarstat', 'oarnodesetting']) {
      writeFileSync(path.join(dir, name), `#!/bin/sh\ncat '${dir}/${name}.out'\n`);
      chmodSync(path.join(dir, name), 0o755);
    }
    const cfg = path.join(dir, 'oar-hooks.yaml');
    writeFileSync(
      cfg,
      stringify({
        engine_url: server.url,
        admin_token_file: tokenFile,
        spool_dir: path.join(dir, 'spool'),
        oarstat: path.join(dir, 'oarstat'),
        oarnodesetting: path.join(dir, 'oarnodesetting'),
      }),
    );
    const env = { KAPLOY_OAR_HOOKS_CONFIG: cfg };
    const pro = [];
    const epi = [];
    for (let r = 0; r < RUNS; r++) {
      const p = await run(path.join(ROOT, 'hooks/server_prologue'), ['77'], env);
      const e = await run(path.join(ROOT, 'hooks/server_epilogue'), ['77'], env);
      if (
        p.code !== 0 ||
        e.code !== 0 ||
        !/granted/.test(p.stdout) ||
        !/handed to the engine/.test(e.stdout)
      ) {
        throw new Error(`hook run failed at ${n} nodes:\n${p.stdout}${p.stderr}${e.stdout}${e.stderr}`);
      }
      pro.push(p.ms);
      epi.push(e.ms);
      if (VERBOSE) process.stdout.write(e.stdout);
    }
    return { pro, epi };
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function realTier(n) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-bench-realoar-'));
  chmodSync(dir, 0o755);
  const nodes = Array.from({ length: n }, (_, i) => `bench-${i + 1}.oarbench`);
  const uid = Number(execFileSync('id', ['-u', 'oar']).toString());
  const gid = Number(execFileSync('id', ['-g', 'oar']).toString());
  const { server, tokenFile } = await engineFor(
    dir,
    nodes,
    'oarbench',
    (i) => `127.14.${Math.floor(i / 250)}.${(i % 250) + 1}`,
    { uid, gid },
  );
  const cfg = '/etc/kaploy/oar-hooks.yaml';
  const saved = existsSync(cfg) ? readFileSync(cfg) : undefined;
  mkdirSync('/etc/kaploy', { recursive: true });
  // OAR runs its own hooks for the bench job too: they use the bench engine.
  writeFileSync(
    cfg,
    stringify({ engine_url: server.url, admin_token_file: tokenFile, spool_dir: path.join(dir, 'spool') }),
  );
  execFileSync('install', ['-d', '-o', 'oar', '-g', 'oar', '-m', '700', path.join(dir, 'spool')]);
  let job;
  const hosts = nodes.flatMap((x) => ['-h', x]);
  try {
    const known = new Set(
      execFileSync('oarnodes', ['-l'])
        .toString()
        .split('\n')
        .map((l) => l.split(/\s/)[0]),
    );
    const missing = nodes.filter((x) => !known.has(x));
    // One oarnodesetting run adds every host (one Perl start, one database connection).
    if (missing.length)
      execFileSync('oarnodesetting', ['-a', '-p', 'deploy=YES', ...missing.flatMap((x) => ['-h', x])], {
        stdio: 'ignore',
      });
    execFileSync('oarnodesetting', ['-p', 'deploy=YES', ...hosts], { stdio: 'ignore' });
    execFileSync('oarnodesetting', ['-s', 'Alive', ...hosts], { stdio: 'ignore' });
    // State changes are applied asynchronously by OAR's server (NodeChangeState).
    for (let t = 0; ; t++) {
      const st = JSON.parse(
        execFileSync('oarnodes', ['-J', '-s'], { maxBuffer: 64 << 20 }).toString() || '{}',
      );
      if (nodes.every((x) => Object.values(st[x] ?? {})[0] === 'Alive')) break;
      if (t > 120) throw new Error('bench nodes did not become Alive');
      await new Promise((r) => setTimeout(r, 500));
    }
    const submit = `oarsub -t deploy -p "network_address like 'bench-%'" -l nodes=${n},walltime=0:10 'sleep 600'`;
    const out = execFileSync('su', ['-', 'alice', '-c', submit]).toString();
    job = Number(/OAR_JOB_ID=(\d+)/.exec(out)?.[1]);
    if (!job) throw new Error(`oarsub: ${out}`);
    for (let t = 0; ; t++) {
      const st = execFileSync('oarstat', ['-J', '-f', '-j', String(job)]).toString();
      if (/"state" : "Running"/.test(st)) break;
      if (t > 240) throw new Error(`job ${job} did not start`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const asOar = (hook) =>
      run(
        'runuser',
        [
          '-u',
          'oar',
          '--',
          'env',
          '-i',
          'OARCONFFILE=/etc/oar/oar.conf',
          path.join(ROOT, 'hooks', hook),
          String(job),
        ],
        process.env,
      );
    const pro = [];
    const epi = [];
    // Prologues first, while the job runs: the first epilogue sets its nodes Absent, which makes
    // OAR end the job (its own epilogue then runs too, against the bench engine).
    for (let r = 0; r < RUNS; r++) {
      const p = await asOar('server_prologue');
      if (p.code !== 0 || !/granted/.test(p.stdout))
        throw new Error(`prologue failed at ${n} nodes:\n${p.stdout}${p.stderr}`);
      pro.push(p.ms);
    }
    for (let r = 0; r < RUNS; r++) {
      const e = await asOar('server_epilogue');
      if (e.code !== 0 || !/handed to the engine/.test(e.stdout))
        throw new Error(`epilogue failed at ${n} nodes:\n${e.stdout}${e.stderr}`);
      epi.push(e.ms);
      if (VERBOSE) process.stdout.write(e.stdout);
    }
    return { pro, epi };
  } finally {
    // Setting a node Absent makes OAR end the jobs on it, so the job may already be over.
    if (job) {
      try {
        execFileSync('oardel', [String(job)], { stdio: 'ignore' });
      } catch {}
    }
    // Out of the way of other jobs (the test nodes): Dead, not deploy.
    await new Promise((r) => setTimeout(r, 15_000));
    execFileSync('oarnodesetting', ['-p', 'deploy=NO', ...hosts], { stdio: 'ignore' });
    execFileSync('oarnodesetting', ['-n', '-s', 'Dead', ...hosts], { stdio: 'ignore' });
    if (saved) writeFileSync(cfg, saved);
    else rmSync(cfg, { force: true });
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const tiers = [['recorded OAR output', fakeTier]];
if (REAL) {
  // A clean OAR: no job or resource left by a killed run holds the bench's nodes.
  execFileSync('bash', [path.join(ROOT, 'scripts/setup-oar.sh'), 'reset'], { stdio: 'inherit' });
  tiers.push(['real OAR 2.5.9', realTier]);
}
console.log(
  `OAR hooks, wall time per run (median / max of ${RUNS}), node ${process.version}, ${os.cpus().length} CPUs`,
);
for (const [label, tier] of tiers) {
  for (const n of SIZES) {
    const { pro, epi } = await tier(n);
    console.log(
      `${label.padEnd(20)} ${String(n).padStart(5)} nodes  prologue ${fmt(median(pro))} / ${fmt(Math.max(...pro))}   epilogue ${fmt(median(epi))} / ${fmt(Math.max(...epi))}`,
    );
  }
}
