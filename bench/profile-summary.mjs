#!/usr/bin/env node
// Sums a V8 .cpuprofile (from `node --cpu-prof` or `bench/deploy-scale.mjs --profile DIR`) by
// self time: the top functions (name, file:line) and the top files, with their share of the
// samples. Usage: node bench/profile-summary.mjs FILE.cpuprofile [--top 30] [--by-time]
//   [--callers NAME [--depth 4]]
import { readFileSync } from 'node:fs';
import { arg } from './lib/deploy-bench.mjs';

const file = process.argv[2];
if (!file || file.startsWith('--')) {
  console.error('usage: node bench/profile-summary.mjs FILE.cpuprofile [--top N]');
  process.exit(2);
}
const top = Number(arg('top', '30'));
const p = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
// Each sample counts for the sampling interval (the median of timeDeltas), not for the time since
// the previous one: on a loaded machine a process waiting for a CPU gets its pending sample late,
// and weighting by time would charge that wait to whatever runs next (often a write that woke the
// peer). --by-time weights by the gaps instead (wall time).
const byTime = process.argv.includes('--by-time');
const sorted = [...p.timeDeltas].sort((a, b) => a - b);
const interval = sorted[Math.floor(sorted.length / 2)] ?? 1000;
const self = new Map();
let total = 0;
for (let i = 0; i < p.samples.length; i++) {
  const dt = byTime ? (p.timeDeltas[i] ?? 0) : interval;
  self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + dt);
  total += dt;
}
const short = (url) => url.replace(/^file:\/\//, '').replace(/^.*\/(dist|node_modules)\//, '$1/');
const byFn = new Map();
const byFile = new Map();
for (const [id, us] of self) {
  const cf = byId.get(id).callFrame;
  const where = cf.url ? short(cf.url) : '(native)';
  const key = `${cf.functionName || '(anonymous)'}  ${where}:${cf.lineNumber + 1}`;
  byFn.set(key, (byFn.get(key) ?? 0) + us);
  byFile.set(where, (byFile.get(where) ?? 0) + us);
}
const print = (title, m) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(
      `${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`,
    );
};
console.log(
  `${file}: ${(total / 1e6).toFixed(2)} s sampled (${p.samples.length} samples, interval ${interval} us)`,
);
print('self time by function', byFn);
print('self time by file', byFile);

// --callers NAME: who calls the functions named NAME, by self time under them (three frames up).
const callersOf = arg('callers', undefined);
if (callersOf) {
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const chains = new Map();
  const frame = (id) => {
    const cf = byId.get(id).callFrame;
    return `${cf.functionName || '(anonymous)'} ${cf.url ? short(cf.url) : ''}:${cf.lineNumber + 1}`;
  };
  for (const [id, us] of self) {
    if (byId.get(id).callFrame.functionName !== callersOf) continue;
    const up = [];
    for (let q = parent.get(id); q !== undefined && up.length < Number(arg('depth', '4')); q = parent.get(q))
      up.push(frame(q));
    const k = up.join(' < ');
    chains.set(k, (chains.get(k) ?? 0) + us);
  }
  print(`callers of ${callersOf}`, chains);
}
