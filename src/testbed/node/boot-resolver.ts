import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BootTarget, parseProfile, profileFileName } from '../../formats/pxe-profile.js';
import type { DiskModel } from './disk-model.js';
import { normalizeViewPath, statWithoutSymlinks } from './view-paths.js';

/** What a boot ends in: a system to run, or the reason it could not start (shown on the console). */
export type BootOutcome =
  | { kind: 'deploy_env' }
  | { kind: 'partition'; partition: number; kernel: string }
  | { kind: 'failed'; reason: string };

const MAX_PROFILE_BYTES = 64 * 1024;

async function readSmall(file: string): Promise<string | undefined> {
  const fh = await open(file, 'r').catch(() => undefined);
  if (!fh) return undefined;
  try {
    const buf = Buffer.alloc(MAX_PROFILE_BYTES);
    const { bytesRead } = await fh.read(buf, 0, MAX_PROFILE_BYTES, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** As pxelinux: the node's own profile file, else `default`, else no PXE entry (boot the disk). */
export async function readBootTarget(
  bootDir: string,
  naming: 'ip_hex' | 'ip' | 'hostname',
  node: { name: string; address: string },
): Promise<{ target: BootTarget | undefined; source: string }> {
  for (const name of [profileFileName(naming, node), 'default']) {
    const text = await readSmall(join(bootDir, name));
    if (text !== undefined) return { target: parseProfile(text), source: name };
  }
  return { target: { kind: 'localboot' }, source: '(none)' };
}

/**
 * GRUB on partition N: reads /boot/grub/grub.cfg there and checks that the kernel its first
 * `linux` line names exists on that partition (no symbolic links followed: the files are the
 * deployed image's, and must not lead the host to read outside the partition).
 */
export async function checkBootable(disk: DiskModel, n: number): Promise<BootOutcome> {
  const dev = disk.deviceName(n);
  const p = disk.partition(n);
  if (!p) return { kind: 'failed', reason: `GRUB: ${dev}: no such partition` };
  if (p.fs === 'none' || p.fs === 'swap')
    return { kind: 'failed', reason: `GRUB: ${dev}: unknown filesystem` };
  const dir = disk.partitionDir(n);
  try {
    if ((await statWithoutSymlinks(dir, 'boot/grub/grub.cfg')) !== 'file')
      return { kind: 'failed', reason: `GRUB: ${dev}: file '/boot/grub/grub.cfg' not found` };
    const cfg = (await readFile(join(dir, 'boot/grub/grub.cfg'), 'utf8')).slice(0, MAX_PROFILE_BYTES);
    const m = /^\s*linux\s+(\S+)/m.exec(cfg);
    if (!m) return { kind: 'failed', reason: `GRUB: ${dev}: no 'linux' entry in /boot/grub/grub.cfg` };
    const kernel = normalizeViewPath(m[1] as string, 'GRUB');
    if ((await statWithoutSymlinks(dir, kernel.slice(1))) !== 'file')
      return { kind: 'failed', reason: `GRUB: error: file '${kernel}' not found on ${dev}` };
    return { kind: 'partition', partition: n, kernel };
  } catch (e) {
    return { kind: 'failed', reason: `GRUB: ${dev}: ${(e as Error).message}` };
  }
}

/** Resolves a PXE boot target to what actually starts. */
export async function resolveBoot(
  target: BootTarget | undefined,
  disk: DiskModel,
  deployKernel: string,
): Promise<BootOutcome> {
  if (!target) return { kind: 'failed', reason: 'PXE: the boot profile could not be parsed' };
  switch (target.kind) {
    case 'deploy_env':
      return target.kernel === deployKernel
        ? { kind: 'deploy_env' }
        : { kind: 'failed', reason: `PXE: kernel '${target.kernel}' not found on the TFTP server` };
    case 'local':
      return checkBootable(disk, target.partition);
    case 'localboot':
      if (disk.state.bootPartition === null)
        return { kind: 'failed', reason: 'No bootable device: no boot loader in the MBR' };
      return checkBootable(disk, disk.state.bootPartition);
  }
}
