import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { HardwareError } from './hardware-error.js';

/**
 * Paths received from the engine (mount points, boot directories, kernels) are validated here
 * before they touch the host file system: absolute, no NUL, no `..` component (refused rather
 * than normalised away, so a traversal attempt is visible as an error).
 */
export function normalizeViewPath(path: string, what: string): string {
  if (path.includes('\0')) throw new HardwareError(`${what}: path contains a NUL byte`);
  if (!path.startsWith('/')) throw new HardwareError(`${what}: ${path}: path must be absolute`);
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new HardwareError(`${what}: ${path}: '..' is not allowed in paths`);
  if (parts.length > 64 || path.length > 1024) throw new HardwareError(`${what}: ${path}: path too long`);
  return `/${parts.join('/')}`;
}

/** True when `path` equals `prefix` or lies below it (both normalised). */
export function isUnder(path: string, prefix: string): boolean {
  return prefix === '/' || path === prefix || path.startsWith(`${prefix}/`);
}

/** The components of `path` below `prefix` ('' when equal). */
export function relativeTo(path: string, prefix: string): string {
  if (prefix === '/') return path.slice(1);
  return path === prefix ? '' : path.slice(prefix.length + 1);
}

/**
 * Checks, component by component with lstat, that `rel` under the host directory `base` exists
 * and contains no symbolic link, so the host path we act on (and that bubblewrap binds onto) is
 * the one the sandbox sees, never a link planted to lead elsewhere. Returns the kind of the last
 * component.
 */
export async function statWithoutSymlinks(
  base: string,
  rel: string,
): Promise<'dir' | 'file' | 'other' | 'missing'> {
  let cur = base;
  const parts = rel.split('/').filter(Boolean);
  if (parts.length === 0)
    return (await lstat(base).catch(() => undefined))?.isDirectory() ? 'dir' : 'missing';
  for (let i = 0; i < parts.length; i++) {
    cur = join(cur, parts[i] as string);
    const st = await lstat(cur).catch(() => undefined);
    if (!st) return 'missing';
    if (st.isSymbolicLink())
      throw new HardwareError(`${rel}: symbolic links are not followed by the virtual node`);
    if (i < parts.length - 1 && !st.isDirectory()) return 'missing';
    if (i === parts.length - 1) return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  }
  return 'missing';
}
