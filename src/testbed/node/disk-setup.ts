import { access, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { KaployError } from '../../common/errors.js';
import { shq } from '../../common/shell-quote.js';
import { partitionScript } from '../../formats/node-commands.js';
import { parseSfdiskScript } from '../../formats/sfdisk-script.js';
import { DiskModel } from './disk-model.js';
import { runSandboxed } from './sandbox-process.js';
import { stripSetIdBits } from './setid-sweep.js';

export interface DiskSetup {
  nodeDir: string;
  diskDir: string;
  hostname: string;
  blockDevice: string;
  partitioning: { swap: number; prod: number; deploy: number; tmp: number };
  productionImage: string;
  engineKey: string;
}

/**
 * A new node's disk, as delivered by the site's installer: the standard partition table, swap
 * and tmp formatted, the production image installed on the prod partition (with the engine's
 * key authorised and a GRUB configuration if the image has none), the MBR boot loader pointing
 * at prod. The deploy partition is left blank. The image is extracted inside the sandbox.
 */
export async function createDisk(s: DiskSetup): Promise<DiskModel> {
  await access(s.productionImage).catch((e: Error) => {
    throw new KaployError(
      'KAPLOY_FILE',
      `production image ${s.productionImage} cannot be read: ${e.message}`,
      { file: s.productionImage },
    );
  });
  await mkdir(s.diskDir, { recursive: true });
  const disk = new DiskModel(s.diskDir, s.blockDevice, {
    version: 1,
    label: null,
    partitions: [],
    bootPartition: null,
    power: 'off',
  });
  await disk.applyTable(parseSfdiskScript(partitionScript(s.partitioning), s.blockDevice));
  const prodDev = disk.deviceName(s.partitioning.prod);
  const script = [
    'set -e',
    'tar -C /mnt/dest --numeric-owner -xf /image',
    'mkdir -p /mnt/dest/root/.ssh',
    'chmod 700 /mnt/dest/root/.ssh',
    `printf '%s\\n' ${shq(s.engineKey.trim())} >> /mnt/dest/root/.ssh/authorized_keys`,
    'chmod 600 /mnt/dest/root/.ssh/authorized_keys',
    'if [ ! -f /mnt/dest/boot/grub/grub.cfg ]; then',
    '  k=$(ls -1 /mnt/dest/boot 2>/dev/null | grep "^vmlinuz" | head -n 1 || true)',
    '  mkdir -p /mnt/dest/boot/grub',
    `  printf 'set default=0\\nset timeout=0\\nmenuentry production {\\n  linux /boot/%s root=%s\\n}\\n' "\${k:-vmlinuz}" ${shq(prodDev)} > /mnt/dest/boot/grub/grub.cfg`,
    'fi',
  ].join('\n');
  const r = await runSandboxed({
    nodeDir: s.nodeDir,
    hostname: s.hostname,
    root: { kind: 'tools', writable: [{ host: disk.partitionDir(s.partitioning.prod), at: '/mnt/dest' }] },
    mounts: [],
    devices: [],
    readOnly: [{ host: s.productionImage, at: '/image' }],
    cwd: '/',
    argv: ['sh', '-c', script],
  });
  const failure = r.code === 0 ? await stripSetIdBits(s.nodeDir, s.hostname) : undefined;
  if (r.code !== 0 || failure) {
    // No state.json: the next start tries again from scratch instead of booting a half-made disk.
    await rm(join(s.diskDir, 'state.json'), { force: true });
    throw new KaployError(
      'KAPLOY_FILE',
      `cannot install the production image ${s.productionImage} on ${prodDev}: ${failure ?? r.stderr.trim()}`,
      { file: s.productionImage },
    );
  }
  for (const p of disk.state.partitions) {
    if (p.number === s.partitioning.swap) p.fs = 'swap';
    if (p.number === s.partitioning.prod || p.number === s.partitioning.tmp) p.fs = 'ext4';
  }
  disk.state.bootPartition = s.partitioning.prod;
  await disk.save();
  return disk;
}
