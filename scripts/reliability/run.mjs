#!/usr/bin/env node
// npm run reliability [-- --short] [--only NAME[,NAME...]] [--scenarios DIR]
// Loads every scenario module of scripts/reliability/scenarios (or DIR), runs them one after the
// other and prints one table: runs, passed, data lost, stuck nodes, internal errors, engine peak
// memory. Exits 1 when any scenario failed a run, lost data, left a node stuck, met an internal
// error or threw; 2 on a bad command line. docs/reliability.md describes the scenarios.
import { setMaxListeners } from 'node:events';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatTable, isFailure, loadavg, normalise } from './lib/table.mjs';

function parseArgs(argv) {
  const o = { short: false, only: undefined, dir: path.join(import.meta.dirname, 'scenarios') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--short') o.short = true;
    else if (a === '--only' && argv[i + 1]) o.only = argv[++i].split(',');
    else if (a === '--scenarios' && argv[i + 1]) o.dir = path.resolve(argv[++i]);
    else
      throw new Error(
        `unknown argument '${a}' (usage: run.mjs [--short] [--only NAME[,NAME]] [--scenarios DIR])`,
      );
  }
  return o;
}

async function loadScenarios(dir) {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.mjs'))
    .sort();
  const out = [];
  for (const f of files) {
    const m = await import(pathToFileURL(path.join(dir, f)).href);
    const s = m.default ?? m;
    if (typeof s.name !== 'string' || typeof s.run !== 'function')
      throw new Error(`${f}: a scenario exports { name, run(opts) }`);
    out.push(s);
  }
  return out;
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(`reliability: ${e.message}`);
  process.exit(2);
}
const all = await loadScenarios(opts.dir);
const unknown = (opts.only ?? []).filter((n) => !all.some((s) => s.name === n));
if (unknown.length > 0) {
  console.error(
    `reliability: unknown scenario ${unknown.join(', ')}: one of ${all.map((s) => s.name).join(', ')}`,
  );
  process.exit(2);
}
const chosen = opts.only ? all.filter((s) => opts.only.includes(s.name)) : all;
const ac = new AbortController();
// Every child process and request of a scenario listens to this one signal.
setMaxListeners(0, ac.signal);
const stop = () => ac.abort(new Error('interrupted'));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
// An unhandled rejection in a scenario is an internal error of the scenario run, not a crash of the table.
let stray = 0;
process.on('unhandledRejection', (e) => {
  stray++;
  console.error(`reliability: unhandled rejection: ${e?.stack ?? e}`);
});

const rows = [];
const t0 = Date.now();
for (const s of chosen) {
  if (ac.signal.aborted) break;
  const start = Date.now();
  const log = (line) => console.error(`[${s.name}] ${line}`);
  log(`start (${opts.short ? 'short' : 'full'}), load ${loadavg()}`);
  let r;
  try {
    r = normalise(await s.run({ short: opts.short, signal: ac.signal, log }));
  } catch (e) {
    log(`threw: ${e?.stack ?? e}`);
    r = { ...normalise({}), runs: 1, notes: `threw: ${String(e?.message ?? e).split('\n')[0]}`, threw: true };
  }
  if (stray > 0) {
    r.internalErrors += stray;
    stray = 0;
  }
  r.seconds = (Date.now() - start) / 1000;
  log(`done in ${r.seconds.toFixed(1)} s: ${r.passed}/${r.runs} passed`);
  rows.push({ name: s.name, ...r });
}
console.log(
  `reliability ${opts.short ? '--short' : '(full)'}: ${rows.length} scenarios in ${((Date.now() - t0) / 1000).toFixed(0)} s, load average ${loadavg()} at the end`,
);
console.log(formatTable(rows));
const failed = rows.filter(isFailure);
if (ac.signal.aborted) {
  console.log('interrupted');
  process.exit(130);
}
if (failed.length > 0) {
  console.log(`FAILED: ${failed.map((r) => r.name).join(', ')}`);
  process.exit(1);
}
