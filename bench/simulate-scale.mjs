#!/usr/bin/env node
import { Session } from 'node:inspector/promises';
// kaploy simulate at scale: a generated site of N nodes in 5 clusters, the hardware model of
// docs/simulate-model.yaml, one simulation per size; prints wall and CPU time, where the CPU went
// (V8 sampling profile, self time by part: runner, model, scheduler, promises and timers, GC),
// peak memory (RSS) and the load average. Targets (issue 16): 10,000 nodes < 30 s, 50,000 < 3 min.
// Usage: npm run build && node bench/simulate-scale.mjs [--clusters 5] [--no-profile] [SIZES...] (default 10000 50000)
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { generateSite } = await import(path.join(root, 'dist/simulate/site-gen.js'));
const { loadHardwareModel } = await import(path.join(root, 'dist/simulate/model.js'));
const { simulate } = await import(path.join(root, 'dist/simulate/simulate.js'));

const argv = process.argv.slice(2);
const ci = argv.indexOf('--clusters');
const clusters = ci >= 0 ? Number(argv[ci + 1]) : 5;
const profile = !argv.includes('--no-profile');
const sizes = argv.filter((a, i) => /^\d+$/.test(a) && argv[i - 1] !== '--clusters').map(Number);
const model = loadHardwareModel(path.join(root, 'docs/simulate-model.yaml'));
const AUTOMATA =
  'SetDeploymentEnv|SetDeploymentEnvUntrusted:2:900&BroadcastEnv|BroadcastEnvKascade:2:900&BootNewEnv|BootNewEnvClassical:0:600,BootNewEnvHardReboot:1:600';
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

/** Which part of the program a profile node's function belongs to. */
function part(url, fn) {
  if (fn === '(garbage collector)') return 'gc';
  if (fn === '(idle)' || fn === '(program)') return 'idle/program';
  if (url.includes('/dist/simulate/scheduler')) return 'scheduler';
  if (url.includes('/dist/simulate/') || url.includes('/dist/engine/steps/') || url.includes('/p-map/'))
    return 'model';
  if (url.includes('/dist/engine/workflow/')) return 'runner';
  if (url.includes('/pino') || url.includes('/dist/common/logger')) return 'logger';
  if (url.startsWith('node:') || url === '') return 'node (promises, timers, events)';
  return 'other';
}

function breakdown(prof) {
  const self = new Map();
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const dt = prof.timeDeltas;
  prof.samples.forEach((id, i) => {
    const n = byId.get(id);
    const k = part(n.callFrame.url, n.callFrame.functionName);
    self.set(k, (self.get(k) ?? 0) + (dt[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .map(([k, us]) => `${k} ${(us / 1e6).toFixed(1)} s (${((100 * us) / total).toFixed(0)}%)`)
    .join(', ');
}

for (const n of sizes.length > 0 ? sizes : [10_000, 50_000]) {
  // Windows and timeouts sized for clusters of thousands of nodes (the site defaults, 50 at once
  // and 200 s, would time most nodes out: a finding of the simulator, not a scale test).
  const site = generateSite({
    nodes: n,
    clusters,
    windows: { reboot: 200, check: 200 },
    automata: AUTOMATA,
  });
  const before = load();
  const session = profile ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 1000 });
    await session.post('Profiler.start');
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await simulate({ site, model, seed: 1 });
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  let where = '';
  if (session) {
    const { profile: prof } = await session.post('Profiler.stop');
    session.disconnect();
    where = breakdown(prof);
  }
  console.log(
    `${n} nodes, ${clusters} clusters: wall ${wall.toFixed(1)} s, CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB; predicted ${r.totalS.toFixed(1)} s, ${r.ok} OK, ${r.ko.length} KO; ${r.stats.microStepCalls} micro-step calls, ${r.stats.events} events in ${r.stats.batches} instants`,
  );
  if (where) console.log(`  sampled time by part (V8 profiler on, 1 ms samples): ${where}`);
  console.log(`  load average before ${before}, after ${load()}`);
}
