import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/, built once for the run by the global setup (test/global/build-dist.ts). */
const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dist');

/** `kaploy` restricted to its `server` subcommands (see kaploy-server-only.mjs). */
export const KAPLOY_SERVER_BIN = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  'kaploy-server-only.mjs',
);

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one of the built commands (dist/cli/<bin>.js) to completion. */
export function run(
  bin: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cwd?: string; input?: string },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const env = Object.fromEntries(
      Object.entries(opts.env).filter(([, v]) => v !== undefined),
    ) as NodeJS.ProcessEnv;
    const script = bin === 'kaploy' ? KAPLOY_SERVER_BIN : path.join(DIST, 'cli', `${bin}.js`);
    const p = spawn(process.execPath, [script, ...args], { env, cwd: opts.cwd, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
    });
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    p.stdin.end(opts.input ?? '');
  });
}
