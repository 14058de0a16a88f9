import { constants, type FileHandle, lstat, mkdir, open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { BootedSystem, ResolvedPath } from './booted-system.js';
import type { ListedCommand } from './command-words.js';
import { HardwareError } from './hardware-error.js';
import { isUnder, normalizeViewPath } from './view-paths.js';

/**
 * The file commands the engine sends that the virtual node answers itself instead of starting a
 * sandbox (node-commands.ts: `checkFiles`, `writeFile`): `test -f PATH`, `mkdir -p DIR` and
 * `cat > FILE`. They act on the sandbox's own directories only, as the sandbox would see them,
 * and never through a symbolic link:
 *
 * - `planFileCommand` decides beforehand, with lstat, whether the node can answer: the path is
 *   absolute, without `..`, on one of the node's writable file systems (its mounted partitions,
 *   the booted partition, the deployment environment's /etc /root /tmp /mnt), not under /proc,
 *   /dev or a read-only bind, and no existing component is a symbolic link (nor, for `cat >`, the
 *   file something else than a regular file). Otherwise the line runs in the sandbox as before,
 *   with real sh semantics (a link is then followed inside the sandbox's view, never the host's).
 * - `runFileCommand` acts, walking the path one directory at a time with file descriptors
 *   (`O_DIRECTORY | O_NOFOLLOW`, each next component opened through `/proc/self/fd/N/NAME`, the
 *   file created with `O_NOFOLLOW`), so a sandboxed process swapping a directory for a symbolic
 *   link after the check cannot make the daemon create, truncate or test anything outside: the
 *   walk fails instead.
 */
export type FileCommand =
  | { kind: 'test-f'; path: string }
  | { kind: 'mkdir-p'; path: string }
  | { kind: 'write'; path: string };

/** `test -f P`, `mkdir -p D`, `cat > F` (words exactly these); undefined for anything else. */
export function parseFileCommand(c: ListedCommand): FileCommand | undefined {
  const [p, a, b] = c.words;
  if (c.stdoutTo !== undefined)
    return c.words.length === 1 && p === 'cat' ? { kind: 'write', path: c.stdoutTo } : undefined;
  if (c.words.length !== 3 || b === undefined) return undefined;
  if (p === 'test' && a === '-f') return { kind: 'test-f', path: b };
  if (p === 'mkdir' && a === '-p') return { kind: 'mkdir-p', path: b };
  return undefined;
}

const { O_RDONLY, O_WRONLY, O_CREAT, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;
const DIR_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
/** At most this many bytes written by one `cat > FILE` (a kernel, a grub.cfg). */
const MAX_WRITE_BYTES = 256 * 1024 * 1024;

const at = (dir: FileHandle, name: string) => `/proc/self/fd/${dir.fd}/${name}`;

/** The sandbox directory holding `path` when the node may act on it itself; undefined otherwise. */
function resolveOwn(system: BootedSystem, path: string): ResolvedPath | undefined {
  let p: string;
  try {
    p = normalizeViewPath(path, 'path');
  } catch {
    return undefined;
  }
  // Mounted over the view by bubblewrap: not the partition's directories.
  if (isUnder(p, '/proc') || isUnder(p, '/dev')) return undefined;
  if (system.isDeployEnv && isUnder(p, '/etc/alternatives')) return undefined;
  return system.resolve(p);
}

/**
 * True when the node can answer this command itself (see the module comment); false: run the line
 * in the sandbox.
 */
export async function planFileCommand(system: BootedSystem, cmd: FileCommand): Promise<boolean> {
  const r = resolveOwn(system, cmd.path);
  if (!r) return false;
  let cur = r.base;
  const parts = r.rel.split('/').filter(Boolean);
  for (let i = 0; i < parts.length; i++) {
    cur = `${cur}/${parts[i]}`;
    const st = await lstat(cur).catch(() => undefined);
    if (!st) return true; // the rest does not exist yet
    if (st.isSymbolicLink()) return false;
    const last = i === parts.length - 1;
    if (!last && !st.isDirectory()) return cmd.kind === 'test-f'; // test -f answers 1, the rest fail in sh
    if (last && cmd.kind === 'write') return st.isFile();
    if (last && cmd.kind === 'mkdir-p') return st.isDirectory();
  }
  return cmd.kind !== 'write'; // the base itself: a directory
}

/** Opens the directory `parts` below `base`, component by component, never following a link. */
async function openDir(
  base: string,
  parts: readonly string[],
  what: string,
  create: boolean,
): Promise<FileHandle | 'missing'> {
  let dir = await open(base, DIR_FLAGS);
  for (const name of parts) {
    let next: FileHandle | undefined;
    try {
      next = await openChild(dir, name, what, create);
    } finally {
      if (next !== dir) await dir.close();
    }
    if (next === undefined) return 'missing';
    dir = next;
  }
  return dir;
}

async function openChild(
  dir: FileHandle,
  name: string,
  what: string,
  create: boolean,
): Promise<FileHandle | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await open(at(dir, name), DIR_FLAGS);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR' || code === 'ELOOP') {
        const st = await lstat(at(dir, name)).catch(() => undefined);
        if (st?.isSymbolicLink())
          throw new HardwareError(`${what}: symbolic links are not followed by the virtual node`);
        if (!create) return undefined;
        throw new HardwareError(`${what}: Not a directory`);
      }
      if (code !== 'ENOENT' || !create) {
        if (code === 'ENOENT') return undefined;
        throw new HardwareError(`${what}: ${(e as Error).message}`);
      }
      if (attempt > 0) throw new HardwareError(`${what}: the directory vanished while it was created`);
      await mkdir(at(dir, name), 0o755).catch((m: NodeJS.ErrnoException) => {
        if (m.code !== 'EEXIST') throw new HardwareError(`${what}: ${m.message}`);
      });
    }
  }
}

/**
 * Acts one file command on the sandbox's directories. Returns the exit status (`test -f`: 0 or 1);
 * throws HardwareError (message for stderr, status) when sh would fail.
 */
export async function runFileCommand(
  system: BootedSystem,
  cmd: FileCommand,
  stdin: () => Readable,
): Promise<number> {
  const r = resolveOwn(system, cmd.path);
  switch (cmd.kind) {
    case 'test-f': {
      if (!r) throw new HardwareError(`test: ${cmd.path}: not on the node's own file systems`, 2);
      const parts = r.rel.split('/').filter(Boolean);
      const name = parts.pop();
      if (name === undefined) return 1; // a directory
      const dir = await openDir(r.base, parts, `test: ${cmd.path}`, false);
      if (dir === 'missing') return 1;
      try {
        const st = await lstat(at(dir, name)).catch(() => undefined);
        if (st?.isSymbolicLink())
          throw new HardwareError(
            `test: ${cmd.path}: symbolic links are not followed by the virtual node`,
            2,
          );
        return st?.isFile() ? 0 : 1;
      } finally {
        await dir.close();
      }
    }
    case 'mkdir-p': {
      const what = `mkdir: cannot create directory '${cmd.path}'`;
      if (!r) throw new HardwareError(`${what}: Read-only file system`);
      const dir = await openDir(r.base, r.rel.split('/').filter(Boolean), what, true);
      if (dir !== 'missing') await dir.close();
      return 0;
    }
    case 'write': {
      const what = `sh: 1: cannot create ${cmd.path}`;
      if (!r) throw new HardwareError(`${what}: Read-only file system`, 2);
      const parts = r.rel.split('/').filter(Boolean);
      const name = parts.pop();
      if (name === undefined) throw new HardwareError(`${what}: Is a directory`, 2);
      const dir = await openDir(r.base, parts, what, false);
      if (dir === 'missing') throw new HardwareError(`${what}: Directory nonexistent`, 2);
      const fh = await openFileIn(dir, name, what).finally(() => dir.close());
      try {
        const st = await fh.stat();
        // A second name for the file could be one the sandbox cannot see: leave it alone.
        if (!st.isFile() || st.nlink !== 1)
          throw new HardwareError(`${what}: not a plain file the virtual node writes`, 2);
        await fh.truncate(0);
        let size = 0;
        try {
          for await (const chunk of stdin()) {
            size += (chunk as Buffer).length;
            if (size > MAX_WRITE_BYTES) throw new HardwareError(`cat: ${cmd.path}: File too large`);
            await fh.write(chunk as Buffer);
          }
        } catch (e) {
          if (e instanceof HardwareError) throw e;
          throw new HardwareError(`cat: ${cmd.path}: ${(e as Error).message}`);
        }
      } finally {
        await fh.close();
      }
      return 0;
    }
  }
}

/** Creates or opens `name` in `dir` for writing, refusing a symbolic link; no truncation yet. */
function openFileIn(dir: FileHandle, name: string, what: string): Promise<FileHandle> {
  // O_NONBLOCK: a FIFO planted there must not block the daemon.
  return open(at(dir, name), O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o644).catch(
    (e: NodeJS.ErrnoException) => {
      if (e.code === 'ELOOP')
        throw new HardwareError(`${what}: symbolic links are not followed by the virtual node`, 2);
      throw new HardwareError(`${what}: ${e.code === 'EISDIR' ? 'Is a directory' : e.message}`, 2);
    },
  );
}
