import { spawn } from 'node:child_process';
import { accessSync, constants, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KaployError } from '../../common/errors.js';

/** How the experiment ended: its exit code, or the signal that killed it. */
export interface ExperimentEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Writes the deployed nodes (one per line, as an OAR node file without the repeats) and runs the
 * command with them in $KAPLOY_NODES_FILE, its output going where kaploy run's goes (a passive
 * job's OAR.<id>.stdout). The command is an argument vector, never a shell line. Cancelling the
 * run sends the command SIGTERM and waits for it.
 */
export async function runExperiment(
  command: readonly string[],
  nodes: readonly string[],
  nodesFile: string,
  signal: AbortSignal,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ExperimentEnd> {
  try {
    writeFileSync(nodesFile, nodes.map((n) => `${n}\n`).join(''), { mode: 0o644 });
  } catch (e) {
    throw new KaployError('KAPLOY_FILE', `cannot write the nodes file ${nodesFile}: ${(e as Error).message}`);
  }
  const [file, ...args] = command as [string, ...string[]];
  return new Promise<ExperimentEnd>((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: 'inherit',
      env: { ...env, KAPLOY_NODES_FILE: nodesFile, KAPLOY_NODES_COUNT: String(nodes.length) },
    });
    const onAbort = () => child.kill('SIGTERM');
    signal.addEventListener('abort', onAbort, { once: true });
    child.once('error', (e: NodeJS.ErrnoException) => {
      signal.removeEventListener('abort', onAbort);
      reject(
        new KaployError(
          'KAPLOY_EXECUTE',
          `cannot run ${file}: ${e.code === 'ENOENT' ? 'no such file or command' : e.code === 'EACCES' ? 'permission denied (not executable?)' : e.message}`,
        ),
      );
    });
    child.once('close', (code, sig) => {
      signal.removeEventListener('abort', onAbort);
      resolve({ code, signal: sig });
    });
  });
}

/**
 * Refuses, before any node is deployed, a command that cannot be run: a path that is not an
 * executable file, or a name found in no directory of $PATH. Finding this after a 10-minute
 * deployment is what the check is for.
 */
export function checkCommand(file: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): void {
  const candidates = file.includes('/')
    ? [path.resolve(cwd, file)]
    : (env.PATH ?? '')
        .split(':')
        .filter(Boolean)
        .map((d) => path.join(d, file));
  for (const c of candidates) {
    try {
      if (!statSync(c).isFile()) continue;
      accessSync(c, constants.X_OK);
      return;
    } catch {
      // not this one
    }
  }
  throw new KaployError(
    'KAPLOY_OPTION',
    file.includes('/')
      ? `${file}: not an executable file (the command kaploy run would run after the deployment)`
      : `${file}: command not found in $PATH (the command kaploy run would run after the deployment)`,
  );
}
