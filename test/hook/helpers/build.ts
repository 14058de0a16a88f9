import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const HOOK_MAIN = path.join(ROOT, 'dist', 'hook', 'hook-main.js');
export const KAPLOY = path.join(ROOT, 'dist', 'cli', 'kaploy.js');
export const HOOKS_DIR = path.join(ROOT, 'hooks');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
  }
  return t;
}

/**
 * Compiles dist/ when the OAR sources are newer than the hook program the tests spawn (type
 * errors elsewhere in the tree do not stop tsc from emitting).
 */
export function ensureOarBuilt(): void {
  const bins = [HOOK_MAIN, KAPLOY];
  const built = bins.every(existsSync) ? Math.min(...bins.map((b) => statSync(b).mtimeMs)) : 0;
  const src = Math.max(
    newest(path.join(ROOT, 'src')),
    statSync(path.join(ROOT, 'src', 'cli', 'kaploy-oar.ts')).mtimeMs,
  );
  if (built > src) return;
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
  } catch {
    // Errors in files others are writing; what matters is that our programs were emitted.
  }
  for (const b of bins) if (!existsSync(b)) throw new Error(`build did not produce ${b}`);
}
