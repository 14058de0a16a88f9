import type { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { type SandboxSpec, sandboxArgs } from './bwrap-args.js';
import { HelperChild, spawnViaHelper } from './spawn-helper.js';

/** A running sandboxed command: the part of ChildProcess the node uses ('error', 'exit', 'close'). */
export interface SandboxProcess extends EventEmitter {
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly pid: number | undefined;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
}

/**
 * Starts a command in the node's sandbox, in its own process group (so it can be killed whole).
 * Started by a small helper process, not forked from the daemon (see
 * docs/decisions/0006-sandbox-spawn-helper.md); confinement: docs/decisions/0005-virtual-node-confinement.md.
 */
export function spawnSandboxed(spec: SandboxSpec): SandboxProcess {
  return spawnViaHelper('bwrap', sandboxArgs(spec), { PATH: '/usr/bin:/bin' });
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
  // Its pid may not be known yet: the helper kills it as soon as it is.
  if (child instanceof HelperChild) {
    child.killGroup();
    return;
  }
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
  track?: (child: SandboxProcess) => () => void,
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
