#!/usr/bin/env node
// The cost of a Prometheus scrape of the engine's /metrics during a large deployment: a virtual
// site of N zero-delay nodes, GET /metrics (admin token, on the engine's listener) every
// --every ms while kadeploy3 deploys every node, and the same on the idle site before and after.
// Prints, per phase, scrapes done, median/p95/max wall time of one scrape, the size of the answer
// and its number of kaploy_* series; on the idle site, the engine's CPU time per scrape (50 back to
// back, from /proc): what a scrape costs should not grow with N.
// Usage: npm run build && node bench/metrics-scrape.mjs --nodes 100,1000 [--every 500] [--keep]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { arg, bringUp, loadavg, procStats, tearDown } from './lib/deploy-bench.mjs';

const sizes = arg('nodes', '100').split(',').map(Number);
const every = Number(arg('every', '500'));
const keep = process.argv.includes('--keep');
const root = path.resolve(import.meta.dirname, '..');
const STEPS =
  'SetDeploymentEnv|SetDeploymentEnvUntrusted:0:1200&BroadcastEnv|BroadcastEnvKascade:0:1200&BootNewEnv|BootNewEnvClassical:0:1200';

async function scrapeOnce(url, token) {
  const t0 = process.hrtime.bigint();
  const r = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const text = await r.text();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 200) throw new Error(`GET /metrics: ${r.status} ${text.slice(0, 200)}`);
  return { ms, bytes: text.length, series: text.split('\n').filter((l) => /^kaploy_/.test(l)).length };
}

/** Scrapes every `every` ms until `until()` says stop (at least `min` scrapes). */
async function scrapes(url, token, until, min = 0) {
  const out = [];
  while (out.length < min || !until()) {
    out.push(await scrapeOnce(url, token));
    await new Promise((r) => setTimeout(r, every));
  }
  return out;
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

const cols = [
  'nodes',
  'phase',
  'scrapes',
  'median_ms',
  'p95_ms',
  'max_ms',
  'bytes',
  'series',
  'engine_cpu_ms',
  'loadavg',
];
console.log(cols.join('  '));
const row = (n, phase, xs, cpuMs) => {
  const r = [
    n,
    phase,
    xs.length,
    pct(
      xs.map((x) => x.ms),
      50,
    ).toFixed(1),
    pct(
      xs.map((x) => x.ms),
      95,
    ).toFixed(1),
    Math.max(...xs.map((x) => x.ms)).toFixed(1),
    Math.max(...xs.map((x) => x.bytes)),
    Math.max(...xs.map((x) => x.series)),
    cpuMs === undefined ? '-' : cpuMs.toFixed(2),
    loadavg(),
  ];
  console.log(r.map((s, i) => String(s).padStart(cols[i].length)).join('  '));
};

/** 50 scrapes back to back on an idle engine: its CPU time per scrape, in ms. */
async function cpuPerScrape(pid, url, token) {
  const c0 = procStats(pid).cpu;
  for (let i = 0; i < 50; i++) await scrapeOnce(url, token);
  return ((procStats(pid).cpu - c0) * 1000) / 50;
}

for (const n of sizes) {
  const site = bringUp(n, { bootDelayMs: 0 });
  try {
    const client = parse(readFileSync(path.join(site.dir, 'client.yaml'), 'utf8'));
    const url = `${Object.values(client.servers)[0].url}/metrics`;
    const token = readFileSync(path.join(site.dir, 'tokens', 'kaadmin'), 'utf8').trim();
    row(n, 'idle', await scrapes(url, token, () => true, 10), await cpuPerScrape(site.enginePid, url, token));
    const child = spawn(
      process.execPath,
      [
        path.join(root, 'dist', 'cli', 'kadeploy3.js'),
        '-e',
        'tiny-x64-base',
        '-f',
        path.join(site.dir, 'nodes'),
        '-V',
        '0',
        '--force-steps',
        STEPS,
      ],
      {
        env: {
          ...process.env,
          KAPLOY_CLIENT_CONFIG: path.join(site.dir, 'client.yaml'),
          KAPLOY_TOKEN_FILE: path.join(site.dir, 'tokens', os.userInfo().username),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    let done = false;
    const exited = new Promise((r) => child.on('exit', (code) => r(code)));
    void exited.then(() => {
      done = true;
    });
    const t0 = Date.now();
    const during = await scrapes(url, token, () => done);
    const code = await exited;
    const ok = /The deployment is successful on nodes\n([\s\S]*?)(\nThe deployment failed|$)/.exec(out)?.[1];
    row(n, 'during', during);
    console.error(
      `  deployment of ${n} nodes: exit ${code}, ${((Date.now() - t0) / 1000).toFixed(1)} s, ${ok ? ok.trim().split('\n').length : 0} OK`,
    );
    row(
      n,
      'after',
      await scrapes(url, token, () => true, 10),
      await cpuPerScrape(site.enginePid, url, token),
    );
  } finally {
    tearDown(site, keep);
  }
}
