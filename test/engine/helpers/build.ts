import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const DIST = path.join(ROOT, 'dist');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Builds dist/ when a source file is newer than the binaries the tests spawn (`npm run build`
 * compiles everything; type errors elsewhere in the tree do not stop tsc from emitting).
 */
export function ensureBuilt(): void {
  const bins = ['cli/kaploy.js', 'cli/kaenv3.js', 'cli/karights3.js'].map((b) => path.join(DIST, b));
  const built = bins.every(existsSync) ? Math.min(...bins.map((b) => statSync(b).mtimeMs)) : 0;
  if (built > newestMtime(path.join(ROOT, 'src'))) return;
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
  } catch {
    // Errors in files being written by others; what matters is that our binaries were emitted.
  }
  for (const b of bins) if (!existsSync(b)) throw new Error(`build did not produce ${b}`);
}
