import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { KaployError } from '../../common/errors.js';

export interface RunToolOptions {
  signal?: AbortSignal;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Write the tool's stdout into this file (created or truncated) instead of capturing it. */
  stdoutFile?: string;
}

/**
 * Runs a tool from an argument vector (never through a shell) and fails with its stderr. The
 * image builder uses it for tar, the compressors and mke2fs.
 */
export function runTool(cmd: string, args: string[], o: RunToolOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const outFd = o.stdoutFile === undefined ? undefined : openSync(o.stdoutFile, 'w', 0o644);
    const child = spawn(cmd, args, {
      cwd: o.cwd,
      env: o.env ?? process.env,
      signal: o.signal,
      stdio: ['ignore', outFd ?? 'pipe', 'pipe'],
    });
    if (outFd !== undefined) closeSync(outFd);
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    child.on('error', (e) =>
      reject(new KaployError('KAPLOY_EXECUTE', `cannot run ${cmd}: ${e.message}`, { cause: e })),
    );
    child.on('close', (code, sig) => {
      if (code === 0) resolve(out);
      else
        reject(
          new KaployError(
            'KAPLOY_EXECUTE',
            `${cmd} ${args.join(' ')} failed (${sig ?? `exit ${code}`}): ${err.trim()}`,
          ),
        );
    });
  });
}
