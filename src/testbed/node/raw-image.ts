import { open } from 'node:fs/promises';
import type { BootedSystem } from './booted-system.js';
import { HardwareError } from './hardware-error.js';
import { runSandboxed } from './sandbox-process.js';
import { stripSetIdBits } from './setid-sweep.js';

const EXT_MAGIC_OFFSET = 1080;

async function hasExtSuperblock(img: string): Promise<boolean> {
  const fh = await open(img, 'r').catch(() => undefined);
  if (!fh) return false;
  try {
    const buf = Buffer.alloc(EXT_MAGIC_OFFSET + 2);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return bytesRead === buf.length && buf.readUInt16LE(EXT_MAGIC_OFFSET) === 0xef53;
  } finally {
    await fh.close();
  }
}

/**
 * A partition written raw with dd (disk/sdaN.img non-empty) is mounted like on real hardware:
 * an ext2/3/4 image's contents are copied into disk/sdaN/ (by debugfs, itself run in the
 * sandbox since the image is untrusted) and the partition becomes an ext4 file system; anything
 * else is refused as an unknown file system.
 */
export async function importRawImage(system: BootedSystem, n: number): Promise<void> {
  const disk = system.disk;
  const img = disk.imgPath(n);
  const dev = disk.deviceName(n);
  if (!(await hasExtSuperblock(img)))
    throw new HardwareError(
      `mount: ${dev}: wrong fs type, bad option, bad superblock (the raw data written there is not an ext2/3/4 file system)`,
      32,
    );
  await disk.clearContents(n);
  const r = await runSandboxed({
    nodeDir: system.nodeDir,
    hostname: system.hostname,
    root: { kind: 'tools', writable: [{ host: disk.partitionDir(n), at: '/mnt/dest' }] },
    mounts: [],
    devices: [],
    readOnly: [{ host: img, at: '/raw.img' }],
    cwd: '/',
    argv: ['debugfs', '-R', 'rdump / /mnt/dest', '/raw.img'],
  });
  if (r.code !== 0)
    throw new HardwareError(
      `mount: ${dev}: cannot read the file system written there: ${r.stderr.trim()}`,
      32,
    );
  // rdump restores modes: the setuid bits of the file system written raw are stripped as a tar's.
  const failure = await stripSetIdBits(system.nodeDir, system.hostname);
  if (failure) throw new HardwareError(`mount: ${dev}: ${failure}`, 32);
  await disk.markFormatted(n, 'ext4');
  await disk.truncateImage(n);
}
