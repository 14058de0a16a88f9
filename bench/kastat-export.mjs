// kastat3 export cost: N stats rows in a SQLite file, exported to CSV three ways, each in its own
// process so its peak RSS is its own:
//   floor    sqlite3 -csv FILE "SELECT <the 20 -d fields> ... ORDER BY start, id" > /dev/null
//   library  exportStatsCsv() streamed to /dev/null (src/stats/export-csv.ts)
//   http     the engine's GET /stats (fastify + statsRoutes) read by the built kastat3 CLI > /dev/null
// Prints wall time, CPU time and peak RSS of each, and the ratios to the floor (targets: library
// <= 1.3x, HTTP and CLI <= 1.4x, under 100 MiB; the client CPU ratio leaves out the engine process,
// whose CPU per export is printed on the engine's line with the sum of both).
//
//   npm run build && node bench/kastat-export.mjs [--rows 1000000] [--runs 3] [--keep] [--db FILE]
// --keep leaves the store file (and prints where); --db FILE exports that kept file instead of
// creating one (creating a million rows takes longer than the exports on a busy machine).
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { STATS_CSV_PLAIN_SQL, STATS_SCHEMA_SQL } from '../dist/stats/schema.js';

const here = dirname(fileURLToPath(import.meta.url));
function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}
const rows = Number(arg('rows', '1000000'));
const runs = Number(arg('runs', '3'));
if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(runs) || runs < 1) {
  process.stderr.write('usage: node bench/kastat-export.mjs [--rows N] [--runs R] [--keep] [--db FILE]\n');
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'kastat-bench-'));
const given = arg('db', undefined);
const file = given ?? join(dir, 'kaploy.sqlite');

const FIELDS =
  "user,hostname,step1,step2,step3,timeout_step1,timeout_step2,timeout_step3,retry_step1,retry_step2,retry_step3,start,step1_duration,step2_duration,step3_duration,env,CASE anonymous_env WHEN 0 THEN 'false' ELSE 'true' END,md5,CASE success WHEN 0 THEN 'false' ELSE 'true' END,error";
const ERRORS = [
  'BootNewEnvClassical-wait_reboot: timeout, node unreachable',
  'BroadcastEnvKastafior-send_environment: exit 1\ntar: short read "disk full"',
  '=cmd|calc',
];

function createDb() {
  const t0 = performance.now();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec(STATS_SCHEMA_SQL + STATS_CSV_PLAIN_SQL);
  const ins = db.prepare(
    'INSERT INTO stats (wid,operation,user,hostname,step1,step2,step3,timeout_step1,timeout_step2,timeout_step3,retry_step1,retry_step2,retry_step3,start,step1_duration,step2_duration,step3_duration,env,anonymous_env,md5,success,error) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)',
  );
  db.transaction(() => {
    for (let i = 0; i < rows; i++) {
      const ok = i % 10 !== 0;
      ins.run(
        `D-${Math.floor(i / 64)}`,
        'deploy',
        `user${i % 50}`,
        `gdx-${i % 640}.orsay.grid5000.fr`,
        'SetDeploymentEnvUntrusted',
        'BroadcastEnvKastafior',
        'BootNewEnvClassical',
        550,
        600,
        400,
        i % 3,
        0,
        i % 7 === 0 ? 1 : 0,
        1302763272 + Math.floor(i / 64) * 600,
        107 + (i % 50),
        50 + (i % 30),
        i % 200,
        'squeeze-x64-base:5',
        i % 13 === 0 ? 1 : 0,
        ok ? '0123456789abcdef0123456789abcdef' : '',
        ok ? 1 : 0,
        ok ? '' : (ERRORS[(i / 10) % 3] ?? ''),
      );
    }
  })();
  db.close();
  return performance.now() - t0;
}

function countRows() {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT count(*) FROM stats').pluck().get();
  } finally {
    db.close();
  }
}

/** Runs argv under /usr/bin/time -v; returns wall ms (measured here) and the peak RSS in MiB. */
function timed(argv, opts = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn('/usr/bin/time', ['-v', ...argv], {
      stdio: ['ignore', opts.stdout ?? 'ignore', 'pipe'],
      env: opts.env ?? process.env,
    });
    let err = '';
    p.stderr.on('data', (d) => {
      err += d;
    });
    p.on('error', reject);
    p.on('close', (code) => {
      const ms = performance.now() - t0;
      const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(err);
      const user = /User time \(seconds\): ([\d.]+)/.exec(err);
      const sys = /System time \(seconds\): ([\d.]+)/.exec(err);
      if (code !== 0 || !m)
        return reject(new Error(`${argv.join(' ')} failed (${code}): ${err.slice(0, 500)}`));
      // CPU time (user + system) of the process: steadier than wall time on a shared machine.
      const cpuMs = (Number(user?.[1] ?? 0) + Number(sys?.[1] ?? 0)) * 1000;
      resolve({ ms, cpuMs, rssMiB: Number(m[1]) / 1024 });
    });
  });
}

/** The server runs without /usr/bin/time so SIGTERM reaches it; it reports its own peak RSS. */
function startServer() {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(here, 'kastat-export-server.mjs'), file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    const exited = new Promise((r) =>
      p.on('close', () => {
        const m = /maxRSS (\d+) cpu (\d+) ready (\d+)/.exec(out);
        r({ rssMiB: Number(m?.[1] ?? 0) / 1024, cpuMs: Number(m?.[2] ?? 0) - Number(m?.[3] ?? 0) });
      }),
    );
    p.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (\d+)/.exec(out);
      if (m) {
        const stop = () => {
          p.kill('SIGTERM');
          return exited;
        };
        resolve({ port: Number(m[1]), stop });
      }
    });
    p.on('error', reject);
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/**
 * Median and best of the runs, and their ratios to the floor's median and best: on a shared
 * machine the best runs are the least disturbed ones.
 */
const fmt = (label, res, floor) => {
  const ms = median(res.map((r) => r.ms));
  const best = Math.min(...res.map((r) => r.ms));
  const rss = Math.max(...res.map((r) => r.rssMiB));
  const ratio = floor
    ? `  ${(ms / median(floor.map((r) => r.ms))).toFixed(2)}x / ${(best / Math.min(...floor.map((r) => r.ms))).toFixed(2)}x floor`
    : '';
  const runs = res.map((r) => Math.round(r.ms)).join(', ');
  const cpu = median(res.map((r) => r.cpuMs));
  const cpuRatio = floor ? ` = ${(cpu / median(floor.map((r) => r.cpuMs))).toFixed(2)}x` : '';
  return `${label.padEnd(38)} median ${String(Math.round(ms)).padStart(5)} ms, best ${String(Math.round(best)).padStart(5)} ms  peak RSS ${rss.toFixed(0).padStart(3)} MiB${ratio}  CPU ${Math.round(cpu)} ms${cpuRatio}  (runs: ${runs})`;
};

try {
  if (given === undefined) {
    process.stdout.write(`creating ${rows.toLocaleString('en')} stats rows in ${file} ... `);
    process.stdout.write(`${Math.round(createDb())} ms\n`);
  } else {
    process.stdout.write(`exporting the rows of ${file}\n`);
  }
  const exported = countRows();
  const floor = [];
  const lib = [];
  const http = [];
  const server = await startServer();
  const token = join(dir, 'token');
  writeFileSync(token, 'bench-token-0123456789\n');
  chmodSync(token, 0o600);
  const config = join(dir, 'client.yaml');
  writeFileSync(
    config,
    `default: bench\nservers:\n  bench: { url: 'http://127.0.0.1:${server.port}', token_file: ${token} }\n`,
  );
  const cliEnv = { ...process.env, KAPLOY_CLIENT_CONFIG: config };
  for (let r = 0; r < runs; r++) {
    floor.push(
      await timed([
        'sh',
        '-c',
        `sqlite3 -csv "$0" "SELECT ${FIELDS} FROM stats ORDER BY start, id" > /dev/null`,
        file,
      ]),
    );
    lib.push(await timed([process.execPath, join(here, 'kastat-export-lib.mjs'), file]));
    http.push(
      await timed([process.execPath, join(here, '..', 'dist', 'cli', 'kastat3.js'), '-o', 'all', '-d'], {
        env: cliEnv,
      }),
    );
  }
  const served = await server.stop();
  process.stdout.write(
    `\nexport of ${exported.toLocaleString('en')} rows, 20 fields, ORDER BY start, id, to /dev/null (load average ${loadavg()[0]?.toFixed(1)}):\n`,
  );
  process.stdout.write(`${fmt('floor: sqlite3 -csv', floor)}\n`);
  process.stdout.write(`${fmt('library: exportStatsCsv', lib, floor)}\n`);
  process.stdout.write(`${fmt('http: GET /stats -> kastat3 (client)', http, floor)}\n`);
  // Client and engine together: the CPU an export through HTTP costs, against the floor's.
  const serverCpu = served.cpuMs / runs;
  const both = median(http.map((r) => r.cpuMs)) + serverCpu;
  process.stdout.write(
    `${'http: engine (server)'.padEnd(38)} peak RSS ${served.rssMiB.toFixed(0)} MiB over the ${runs} exports it served, CPU ${Math.round(serverCpu)} ms per export; client + engine CPU ${Math.round(both)} ms = ${(both / median(floor.map((r) => r.cpuMs))).toFixed(2)}x\n`,
  );
} finally {
  if (!process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
}
