import { runSandboxed } from './sandbox-process.js';

/**
 * Strips the setuid and setgid bits (mode & ~0o6000) from every regular file under the node's
 * directory: its partitions, its deployment environment, whatever a user's image, postinstall
 * or shell put there. A file of a user's image is owned by the host's root (the sandbox runs as
 * root without CAP_CHOWN), so a setuid bit left on the host disk would make a setuid-root host
 * program of it, guarded only by the node directory's 0700 mode (decision 0034).
 *
 * The walk and the chmod run in the node's sandbox, like everything touching untrusted data: the
 * view holds only the node's directory, so a symbolic link (or one swapped in meanwhile) resolves
 * inside it and never reaches a host file. `find -P` (the default) does not follow links; each
 * hard-linked name is visited, and chmod acts on the inode they share. A hard link to a file
 * outside the node's directory cannot exist: link(2) does not cross the sandbox's bind mounts.
 *
 * Directories keep their setgid bit: on a directory it only makes new files inherit its group,
 * it gives no process any privilege.
 *
 * Resolves with undefined once done, or with why it could not (the bits may then be left).
 */
export async function stripSetIdBits(nodeDir: string, hostname: string): Promise<string | undefined> {
  const r = await runSandboxed({
    nodeDir,
    hostname,
    root: { kind: 'tools', writable: [{ host: nodeDir, at: '/node' }] },
    mounts: [],
    devices: [],
    cwd: '/',
    argv: ['find', '/node', '-type', 'f', '-perm', '/6000', '-exec', 'chmod', 'ug-s', '--', '{}', '+'],
  }).catch((e: Error) => ({ code: 126, stderr: e.message }));
  return r.code === 0
    ? undefined
    : `cannot strip setuid/setgid bits: ${r.stderr.trim() || `status ${r.code}`}`;
}

/**
 * One node's sweeps, coalesced: commands ending together share one sweep, and a command ending
 * while a sweep runs gets the next one (the running walk may already have passed its files).
 */
export class SetIdSweeper {
  private running: Promise<string | undefined> | undefined;
  private queued: Promise<string | undefined> | undefined;

  constructor(private readonly sweepOnce: () => Promise<string | undefined>) {}

  /** Resolves once a sweep that started after this call has finished (undefined: it succeeded). */
  sweep(): Promise<string | undefined> {
    if (!this.running) {
      const run = this.sweepOnce().finally(() => {
        if (this.running === run) this.running = undefined;
      });
      this.running = run;
      return run;
    }
    if (!this.queued) {
      const queued = this.running.then(() => {
        this.queued = undefined;
        return this.sweep();
      });
      this.queued = queued;
    }
    return this.queued;
  }
}
