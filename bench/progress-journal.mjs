#!/usr/bin/env node
// Benchmark: the write cost of durable deployments' progress journal (docs/decisions/0033). A
// deployment of N nodes through M micro-steps, each micro-step completed by the nodes in G groups
// (early reports, as nodes come back at different times), journaled on a store in a temporary
// directory with the engine's settings (WAL, synchronous=FULL). Prints the commits made, the time
// the event loop spent in them (each commit is an fsync), and the same with one commit per
// report (no batching) for comparison. Needs `npm run build`.
//
//   node bench/progress-journal.mjs [--nodes 200] [--steps 15] [--groups 20]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProgressJournal } from '../dist/engine/operations/progress-journal.js';
import { openStore } from '../dist/engine/store/store.js';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('nodes', 200);
const STEPS = arg('steps', 15);
const GROUPS = arg('groups', 20);
const nodes = Array.from({ length: N }, (_, i) => `node-${i + 1}.bench`);
const record = () => ({ startedAt: Date.now(), attempts: 1, steps: {} });

async function run(batched) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-bench-journal-'));
  const store = openStore(path.join(dir, 'kaploy.sqlite'));
  let commits = 0;
  let busyMs = 0;
  const repo = {
    write: (...a) => {
      const t = performance.now();
      store.progress.write(...a);
      busyMs += performance.now() - t;
      commits++;
    },
  };
  const j = new ProgressJournal(repo, 'D-bench', (e) => {
    throw e;
  });
  const started = performance.now();
  try {
    for (let s = 0; s < STEPS; s++) {
      for (let g = 0; g < GROUPS; g++) {
        const group = nodes.filter((_, i) => i % GROUPS === g);
        j.reached(
          group,
          { macro: 'BroadcastEnv', impl: 'BroadcastEnvChain', attempt: 0, micro: 'sync' },
          record,
        );
        if (!batched) j.flush();
        // Groups report a few ms apart, as nodes come back from a step at different times.
        await sleep(5);
      }
    }
    j.flush();
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { commits, busyMs, wallMs: performance.now() - started };
}

for (const batched of [true, false]) {
  const r = await run(batched);
  console.log(
    `${batched ? 'batched (50 ms)' : 'one commit per report'}: ${N} nodes x ${STEPS} steps in ${GROUPS} groups: ` +
      `${r.commits} commits, ${r.busyMs.toFixed(1)} ms in commits (${((r.busyMs / r.wallMs) * 100).toFixed(1)}% of ${(r.wallMs / 1000).toFixed(1)} s)`,
  );
}
