import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { type SandboxSpec, sandboxArgs } from './bwrap-args.js';

/** Starts a command in the node's sandbox, in its own process group (so it can be killed whole). */
export function spawnSandboxed(spec: SandboxSpec): ChildProcessWithoutNullStreams {
  return spawn('bwrap', sandboxArgs(spec), { stdio: 'pipe', detached: true, env: { PATH: '/usr/bin:/bin' } });
}

/**
 * Kills a sandboxed command: SIGKILL to bubblewrap's process group. Its sandboxes' PID
 * namespaces die with their init, taking every process started inside with them.
 */
export function killSandboxed(child: {
  pid?: number | undefined;
  exitCode: number | null;
  signalCode: NodeJS.Signals | null;
}): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Runs a short sandboxed command to completion (stdin closed), collecting its stderr (bounded). */
export function runSandboxed(
  spec: SandboxSpec,
  track?: (child: ChildProcessWithoutNullStreams) => () => void,
): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnSandboxed(spec);
    const untrack = track?.(child);
    let stderr = '';
    child.stdin.end();
    child.stdout.resume();
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 8192) stderr += d.toString();
    });
    child.on('error', (e) => {
      untrack?.();
      reject(e);
    });
    child.on('close', (code, signal) => {
      untrack?.();
      resolve({ code: code ?? (signal ? 128 : 1), stderr });
    });
  });
}
