import { spawnSync } from 'node:child_process';
import path from 'node:path';

/**
 * vitest globalSetup: builds dist/ once, before any test file runs. Many tests spawn the built
 * programs (dist/cli/*.js, the testbed daemon, the hook program); building here, not in each
 * file, means one compilation per run and one answer to "is dist/ current". A type error fails
 * the run: tests against a half-emitted dist/ would report confusing failures instead.
 */
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

export function setup(): void {
  const r = spawnSync(process.execPath, [TSC, '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.error) throw new Error(`cannot run tsc to build dist/: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`building dist/ failed (tsc -p tsconfig.build.json):\n${r.stdout}${r.stderr}`);
  }
}
