import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * vitest globalSetup: builds dist/ once, before any test file runs. Many tests spawn the built
 * programs (dist/cli/*.js, the testbed daemon, the hook program); building here, not in each
 * file, means one compilation per run and one answer to "is dist/ current". A type error fails
 * the run: tests against a half-emitted dist/ would report confusing failures instead.
 */
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const BUILD_INFO = path.join(ROOT, 'dist', '.tsbuildinfo');

export function setup(): void {
  // Incremental, its state kept in dist/ (removed with it): a run after no change costs a second
  // or two, not a full compilation. Type errors are still reported on every run.
  tsc(['--incremental', '--tsBuildInfoFile', BUILD_INFO]);
  // An incremental build does not re-emit outputs deleted since the last one.
  if (missingOutputs().length > 0) tsc([]);
  const missing = missingOutputs();
  if (missing.length > 0) throw new Error(`building dist/ did not produce ${missing.join(', ')}`);
  // The rest of `npm run build`: the spawned programs load precompiled configuration validators,
  // as installed ones do (without them they would compile their own, correct but slower).
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'precompile-validators.mjs')], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0)
    throw new Error(`precompiling the configuration validators failed:\n${r.stdout}${r.stderr}`);
  // And the dashboard's static files, which the engine serves from dist/.
  const c = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'copy-ui-static.mjs')], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (c.status !== 0) throw new Error(`copying the dashboard's files failed:\n${c.stdout}${c.stderr}`);
}

function tsc(extra: string[]): void {
  const r = spawnSync(process.execPath, [TSC, '-p', 'tsconfig.build.json', ...extra], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.error) throw new Error(`cannot run tsc to build dist/: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`building dist/ failed (tsc -p tsconfig.build.json):\n${r.stdout}${r.stderr}`);
  }
}

/** dist/ files missing for a source file of src/ (declaration-only files emit nothing). */
function missingOutputs(dir = 'src'): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...missingOutputs(rel));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
      const js = path.join('dist', path.relative('src', rel)).replace(/\.ts$/, '.js');
      if (!existsSync(path.join(ROOT, js))) out.push(js);
    }
  }
  return out;
}
