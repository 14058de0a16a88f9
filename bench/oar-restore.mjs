#!/usr/bin/env node
// The production restore after a deploy job, end to end on the real OAR 2.5.9: time from the
// job's end (oardel) to every node of the job Alive again in `oarnodes`, for an N-node job (64 by
// default) beside a 1-node job (one node's restore time).
//
//   npm run build
//   flock /tmp/kaploy-bench.lock flock /tmp/kaploy-oar.lock node bench/oar-restore.mjs \
//     [--nodes 64] [--cases plain,destructive] [--boot-delay MS] [--keep]
//
// Root only; runs `scripts/setup-oar.sh reset` first (an empty OAR database: no job left by a
// killed run holds the nodes). Then: a virtual site of N nodes (`kaploy testbed up`, boot delay
// 200 ms by default) whose engine is the site's own `kaploy server` process (it runs the OAR
// restore worker itself, src/engine/oar-restore/engine-oar.ts), restarted once /etc/kaploy/oar-hooks.yaml points
// the hooks at it (the file is saved and put back at the end; the admin token copied for user
// oar); the nodes registered in OAR (`setup-oar.sh nodes`). For each case and size, as alice:
// `oarsub -t deploy -l nodes=SIZE`, wait Running, `kadeploy3` of her environment on all the job's
// nodes, then `oardel` and the time from it until
//   - OAR's run of hooks/server_epilogue for the job logs its first and last lines (oar.log),
//   - the job is seen ended (Error/Terminated) in `oarstat` (polled every 250 ms: under load a
//     poll itself takes a while, so this one is coarse), and
//   - every node is Alive in `oarnodes -J -s` and its restore row (GET /restores?job=) is done
//     (polled every 250 ms).
// Cases: plain = tiny-x64-base (not destructive: the restore reboots onto the recorded
// production), destructive = alice's copy of it tagged destructive (the restore redeploys
// production). Per node: the restore row's request-recorded -> done time (queue wait, reboot or
// redeployment, `oarnodesetting -s Alive`), median / max. Engine: CPU seconds and peak RSS of the
// `kaploy server` process over the measured interval; load average before and after.
// At the end the job is gone, the site down, the nodes Dead with deploy=NO, the hooks' file back.
import { execFile, execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { arg, loadavg, procStats } from './lib/deploy-bench.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(path.join(ROOT, 'dist', p));
const { testbedUp, testbedDown, testbedLayout } = await dist('testbed/index.js');
const { startEngine } = await dist('testbed/manager/engine-process.js');
const { ApiClient } = await dist('client/http-client.js');

const N = Number(arg('nodes', '64'));
const CASES = arg('cases', 'plain,destructive').split(',');
const BOOT_DELAY = Number(arg('boot-delay', '200'));
const KEEP = process.argv.includes('--keep');
const SITE = 'orbench';
const HOOKS_CONFIG = '/etc/kaploy/oar-hooks.yaml';
const SPOOL = '/var/lib/kaploy/oar-spool-restore-bench';
const ENDED = ['Terminated', 'Error'];
const OAR_LOG = '/var/log/oar.log';
const POLL_MS = 250;
const TIMEOUT_MS = 20 * 60_000;
const cli = (n) => path.join(ROOT, 'dist', 'cli', `${n}.js`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (process.getuid?.() !== 0) {
  console.error('bench/oar-restore.mjs: run as root (the real OAR, users alice and oar)');
  process.exit(3);
}
for (const c of CASES) {
  if (c !== 'plain' && c !== 'destructive') {
    console.error(`--cases: unknown case '${c}' (plain, destructive)`);
    process.exit(3);
  }
}

/** Runs a program (argument vector): {code, stdout, stderr}, never throws. */
function sh(file, argv, opts = {}) {
  return new Promise((resolve) => {
    execFile(
      file,
      argv,
      { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 600_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}
async function must(file, argv, opts) {
  const r = await sh(file, argv, opts);
  if (r.code !== 0)
    throw new Error(`${path.basename(file)} ${argv.join(' ')} (${r.code}): ${r.stdout}${r.stderr}`);
  return r;
}
const quote = (s) => `'${s.replaceAll("'", "'\\''")}'`;

async function jobState(id) {
  const r = await sh('oarstat', ['-J', '-f', '-j', String(id)]);
  if (r.code !== 0 || r.stdout.trim() === '') return undefined;
  const j = JSON.parse(r.stdout)[String(id)];
  return j ? { state: j.state, nodes: [...new Set(j.assigned_network_address)].sort() } : undefined;
}
async function nodeStates() {
  const r = await sh('oarnodes', ['-J', '-s']);
  const doc = JSON.parse(r.stdout || '{}');
  return Object.fromEntries(Object.entries(doc).map(([n, res]) => [n, Object.values(res)[0] ?? '']));
}
async function waitFor(what, fn, timeoutMs = 120_000, everyMs = 500) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
const allAlive = async (ns) => {
  const s = await nodeStates();
  return ns.every((n) => s[n] === 'Alive');
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const sec = (ms) => `${(ms / 1000).toFixed(1)} s`;

let dir;
let nodes = [];
let savedConfig;
let configWritten = false;
let admin;
let openJob;
let cleaning;

function siteEnv(user) {
  return {
    ...process.env,
    KAPLOY_CLIENT_CONFIG: path.join(dir, 'client.yaml'),
    KAPLOY_TOKEN_FILE: path.join(dir, 'tokens', user),
    KAPLOY_LOG_LEVEL: 'silent',
  };
}

async function cleanup() {
  cleaning ??= (async () => {
    if (openJob !== undefined) {
      await sh('oardel', [String(openJob)]);
      await waitFor(
        `job ${openJob} to end`,
        async () => ENDED.includes((await jobState(openJob))?.state ?? 'Terminated'),
        120_000,
      ).catch((e) => console.error(String(e)));
    }
    await admin?.close().catch(() => undefined);
    if (dir) await testbedDown(dir).catch(() => undefined);
    if (configWritten) {
      if (savedConfig) writeFileSync(HOOKS_CONFIG, savedConfig);
      else rmSync(HOOKS_CONFIG, { force: true });
    }
    if (nodes.length) {
      const hosts = nodes.flatMap((n) => ['-h', n]);
      await sh('oarnodesetting', ['-p', 'deploy=NO', ...hosts]);
      await sh('oarnodesetting', ['-n', '-s', 'Dead', ...hosts]);
    }
    rmSync(SPOOL, { recursive: true, force: true });
    if (dir) {
      if (KEEP) console.error(`kept ${dir} (engine.log, testbed.log)`);
      else rmSync(dir, { recursive: true, force: true });
    }
  })();
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    console.error(`${sig}: cleaning up`);
    cleanup().finally(() => process.exit(130));
  });
}

/** alice's copy of tiny-x64-base, tagged destructive: its restore is a full redeployment. */
async function destructiveEnv() {
  const name = 'alice-destructive';
  const printed = await must(process.execPath, [cli('kaenv3'), '-p', 'tiny-x64-base', '-u', 'deploy'], {
    env: siteEnv('alice'),
  });
  const file = path.join(dir, `${name}.env`);
  writeFileSync(
    file,
    printed.stdout.replace(/^(name\s*:).*$/m, `$1 ${name}`).replace(/^visibility\s*:.*\n/m, ''),
  );
  execFileSync('chmod', ['644', file]);
  await must(process.execPath, [cli('kaenv3'), '-a', file], { env: siteEnv('alice') });
  await must(process.execPath, [cli('kaenv3'), '--toggle-destructive-tag', name], { env: siteEnv('alice') });
  return { env: name, user: 'alice' };
}

/** Times of the kaploy server_epilogue lines of a job appended to oar.log since byte `from`. */
function epilogueLines(from, job) {
  const size = statSync(OAR_LOG).size;
  const buf = Buffer.alloc(Math.max(0, size - from));
  const fd = openSync(OAR_LOG, 'r');
  try {
    readSync(fd, buf, 0, buf.length, from);
  } finally {
    closeSync(fd);
  }
  const re = new RegExp(`^\\[kaploy\\] \\[([0-9-]+ [0-9:.]+)\\] \\[server_epilogue\\] \\[job ${job}\\] `);
  return buf
    .toString('utf8')
    .split('\n')
    .map((l) => re.exec(l)?.[1])
    .filter(Boolean)
    .map((t) => Date.parse(`${t.replace(' ', 'T')}Z`));
}

/** One run: SIZE-node deploy job, alice's deployment, oardel, the restore timed. */
async function measure(kase, size, env, enginePid) {
  // Every node of the site Alive (the previous run's restore put them back).
  await waitFor('the site nodes Alive', () => allAlive(nodes), 120_000);
  const submit = ['oarsub', '-t', 'deploy', '-l', `nodes=${size},walltime=0:30`, 'sleep 3000'];
  const sub = await must('su', ['-', 'alice', '-c', submit.map(quote).join(' ')]);
  const job = Number(/OAR_JOB_ID=(\d+)/.exec(sub.stdout)?.[1]);
  if (!job) throw new Error(`oarsub: ${sub.stdout}${sub.stderr}`);
  openJob = job;
  const running = await waitFor(
    `job ${job} Running`,
    async () => {
      const j = await jobState(job);
      return j?.state === 'Running' ? j : undefined;
    },
    180_000,
  );
  const jobNodes = running.nodes;
  const nodeFile = path.join(dir, `job-${job}.nodes`);
  writeFileSync(nodeFile, jobNodes.map((n) => `${n}\n`).join(''));
  execFileSync('chmod', ['644', nodeFile]);
  const tDep = Date.now();
  const dep = await sh(
    process.execPath,
    [cli('kadeploy3'), '-e', env.env, '-u', env.user, '-f', nodeFile, '-V', '0'],
    { env: siteEnv('alice') },
  );
  if (dep.code !== 0) throw new Error(`kadeploy3 as alice (${dep.code}): ${dep.stdout}${dep.stderr}`);
  const deployS = (Date.now() - tDep) / 1000;

  const load0 = loadavg();
  const e0 = procStats(enginePid);
  const logFrom = statSync(OAR_LOG).size;
  const t0 = Date.now();
  await must('oardel', [String(job)]);
  let tEpilogue;
  let tAlive;
  let rows = [];
  while (tAlive === undefined) {
    if (Date.now() - t0 > TIMEOUT_MS)
      throw new Error(`job ${job}: restore not over after ${sec(TIMEOUT_MS)}`);
    const [j, st, r] = await Promise.all([
      tEpilogue === undefined ? jobState(job) : undefined,
      nodeStates(),
      admin.request('GET', '/restores', { query: { job } }),
    ]);
    const now = Date.now();
    if (tEpilogue === undefined && j && ENDED.includes(j.state)) tEpilogue = now;
    rows = r.restores;
    const finished =
      rows.length === jobNodes.length && rows.every((x) => x.state === 'done' || x.state === 'failed');
    if (finished && rows.some((x) => x.state === 'failed'))
      throw new Error(
        `job ${job}: restores failed: ${JSON.stringify(rows.filter((x) => x.state === 'failed'))}`,
      );
    if (finished && tEpilogue !== undefined && jobNodes.every((n) => st[n] === 'Alive')) tAlive = now;
    else await sleep(POLL_MS);
  }
  openJob = undefined;
  const e1 = procStats(enginePid);
  // OAR's run of hooks/server_epilogue for this job: its first and last lines (UTC, ms).
  const epi = epilogueLines(logFrom, job);
  if (epi.length === 0) throw new Error(`job ${job}: no server_epilogue line in ${OAR_LOG}`);
  const perNode = rows.map((x) => x.updated - x.created);
  return {
    nodes: size,
    case: kase,
    job,
    deployS,
    epilogueStartMs: epi[0] - t0,
    epilogueMs: epi[epi.length - 1] - t0,
    jobEndedMs: tEpilogue - t0,
    aliveMs: tAlive - t0,
    medianMs: median(perNode),
    maxMs: Math.max(...perNode),
    engineCpuS: e1.cpu - e0.cpu,
    enginePeakMiB: e1.peakMiB,
    load0,
    load1: loadavg(),
  };
}

const results = [];
try {
  // A clean OAR: no job or resource left by a killed run holds the bench's nodes.
  await must('bash', [path.join(ROOT, 'scripts', 'setup-oar.sh'), 'reset']);
  dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-bench-oar-restore-'));
  execFileSync('chmod', ['755', dir]);
  const up = await testbedUp({ nodes: N, site: SITE, dir, bootDelay: BOOT_DELAY });
  nodes = readFileSync(path.join(dir, 'nodes'), 'utf8').trim().split('\n');
  const engineUrl = up.engineUrl ?? `http://127.0.0.1:${up.state.enginePort}`;

  // The hooks (run by OAR as user oar) use this site's engine.
  const tokenDir = path.join(dir, 'oar-token');
  execFileSync('install', ['-d', '-o', 'oar', '-g', 'oar', '-m', '700', tokenDir, SPOOL]);
  execFileSync('install', [
    ...['-o', 'oar', '-g', 'oar', '-m', '600'],
    path.join(dir, 'tokens', 'kaadmin'),
    path.join(tokenDir, 'kaadmin'),
  ]);
  mkdirSync(path.dirname(HOOKS_CONFIG), { recursive: true });
  if (existsSync(HOOKS_CONFIG)) savedConfig = readFileSync(HOOKS_CONFIG);
  configWritten = true;
  writeFileSync(
    HOOKS_CONFIG,
    stringify({
      engine_url: engineUrl,
      admin_token_file: path.join(tokenDir, 'kaadmin'),
      partitions: ['*'],
      spool_dir: SPOOL,
      production_env: 'prod-env',
    }),
  );
  // The engine reads the file's restore settings at start: start it again now that it is there.
  const layout = testbedLayout(dir);
  const enginePid = await startEngine(layout, engineUrl, path.join(dir, 'tokens', 'kaadmin'));
  admin = new ApiClient({
    url: engineUrl,
    token: readFileSync(path.join(dir, 'tokens', 'kaadmin'), 'utf8').trim(),
  });

  const nodesFile = path.join(dir, 'oar-nodes');
  writeFileSync(nodesFile, nodes.map((n) => `${n}\n`).join(''));
  await must('bash', [path.join(ROOT, 'scripts', 'setup-oar.sh'), 'nodes', nodesFile]);
  await must('oarnodesetting', ['-s', 'Alive', ...nodes.flatMap((n) => ['-h', n])]);

  const envs = { plain: { env: 'tiny-x64-base', user: 'deploy' } };
  if (CASES.includes('destructive')) envs.destructive = await destructiveEnv();

  console.log(
    `OAR deploy job end -> nodes Alive again, real OAR 2.5.9, virtual site (boot delay ${BOOT_DELAY} ms), node ${process.version}, ${os.cpus().length} CPUs`,
  );
  const cols = [
    'nodes',
    'case',
    'job',
    'user_deploy_s',
    'end_to_epilogue_start',
    'end_to_epilogue_done',
    'end_to_job_ended',
    'end_to_all_alive',
    'epilogue_done_to_all_alive',
    'per_node_median',
    'per_node_max',
    'engine_cpu_s',
    'engine_peak_MiB',
    'loadavg_before',
    'loadavg_after',
  ];
  console.log(cols.join('  '));
  for (const kase of CASES) {
    for (const size of [1, N]) {
      const r = await measure(kase, size, envs[kase], enginePid);
      results.push(r);
      const row = [
        r.nodes,
        r.case,
        r.job,
        r.deployS.toFixed(1),
        sec(r.epilogueStartMs),
        sec(r.epilogueMs),
        sec(r.jobEndedMs),
        sec(r.aliveMs),
        sec(r.aliveMs - r.epilogueMs),
        sec(r.medianMs),
        sec(r.maxMs),
        r.engineCpuS.toFixed(1),
        r.enginePeakMiB.toFixed(0),
        r.load0,
        r.load1,
      ];
      console.log(row.map((s, i) => String(s).padStart(cols[i].length)).join('  '));
    }
  }
} finally {
  await cleanup();
}
