import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const DIST = path.join(ROOT, 'dist');
const BINS = [
  'cli/kaploy-server.js',
  'cli/kaenv3.js',
  'cli/karights3.js',
  'cli/kadeploy3.js',
  'engine/server/openapi.js',
].map((b) => path.join(DIST, b));
const LOCK = path.join(os.tmpdir(), 'kaploy-engine-tests-build.lock');
const CACHE = path.join(ROOT, 'node_modules/.cache');
// Written after each build: incremental builds do not rewrite unchanged outputs, so the
// binaries' own mtimes cannot tell whether dist/ is current.
const STAMP = path.join(CACHE, 'kaploy-engine-tests.stamp');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function stale(): boolean {
  const built = BINS.every(existsSync) && existsSync(STAMP) ? statSync(STAMP).mtimeMs : 0;
  return built <= newestMtime(path.join(ROOT, 'src'));
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Hook timeout for a beforeAll that builds: a loaded 2-core machine compiles slowly. */
export const BUILD_TIMEOUT_MS = 300_000;

/**
 * Builds dist/ when a source file is newer than the binaries the tests spawn. Test files run in
 * parallel workers: one builds (incrementally) under a lock while the others wait for it. Type
 * errors elsewhere in the tree do not stop tsc from emitting.
 */
export function ensureBuilt(): void {
  // Others edit src/ all the time: two builds per call at most, then use what is there.
  for (let builds = 0; builds < 2 && stale(); ) {
    try {
      mkdirSync(LOCK);
    } catch {
      // Someone else is building; a lock older than 5 minutes is a leftover.
      const st = statSync(LOCK, { throwIfNoEntry: false });
      if (st && Date.now() - st.mtimeMs > 300_000) rmdirSync(LOCK);
      sleep(500);
      continue;
    }
    builds++;
    const started = Date.now();
    try {
      tsc(true);
      // Incremental builds do not notice deleted outputs.
      if (!BINS.every(existsSync)) tsc(false);
      mkdirSync(CACHE, { recursive: true });
      // Stamped with the build's start: a source edited during the build makes it stale again.
      writeFileSync(STAMP, '');
      utimesSync(STAMP, started / 1000, started / 1000);
    } finally {
      rmdirSync(LOCK);
    }
  }
  for (const b of BINS) if (!existsSync(b)) throw new Error(`build did not produce ${b}`);
}

function tsc(incremental: boolean): void {
  const extra = incremental
    ? ['--incremental', '--tsBuildInfoFile', path.join(CACHE, 'kaploy-engine-tests.tsbuildinfo')]
    : [];
  try {
    // Only what the spawned binaries import (the engine's commands and what they load).
    execFileSync('npx', ['tsc', '-p', 'test/engine/tsconfig.build-engine.json', ...extra], {
      cwd: ROOT,
      stdio: 'pipe',
    });
  } catch {
    // Type errors in files others are writing; tsc still emits, and the binaries are checked after.
  }
}
