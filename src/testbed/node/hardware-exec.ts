import { stat } from 'node:fs/promises';
import path, { basename } from 'node:path';
import { parseSfdiskScript, SfdiskScriptError } from '../../formats/sfdisk-script.js';
import type { BootOutcome } from './boot-resolver.js';
import type { BootedSystem } from './booted-system.js';
import type { HardwareCommand } from './hardware-commands.js';
import { HardwareError } from './hardware-error.js';
import { importRawImage } from './raw-image.js';
import { normalizeViewPath, statWithoutSymlinks } from './view-paths.js';

/** What the node does once a hardware command answered. */
export type AfterCommand = { kind: 'none' } | { kind: 'reboot' } | { kind: 'kexec'; outcome: BootOutcome };

export interface HardwareContext {
  system: BootedSystem;
  deployKernel: string;
  /** Reads the command's stdin to its end (bounded), for sfdisk. */
  readStdin: () => Promise<string>;
  /** The command's stdout, for `mount`'s table. */
  writeStdout: (text: string) => void;
}

// mount(8) and umount(8) report failures with status 32.
const MOUNT_FAILURE = 32;
const none: AfterCommand = { kind: 'none' };

/** Acts one hardware command on the model. Throws HardwareError (message for stderr, exit code). */
export async function runHardwareCommand(
  cmd: Exclude<HardwareCommand, { kind: 'relay' }>,
  ctx: HardwareContext,
): Promise<AfterCommand> {
  const { system } = ctx;
  const disk = system.disk;
  switch (cmd.kind) {
    case 'unsupported':
      throw new HardwareError(cmd.message, 2);
    case 'sync':
      return none;
    case 'reboot':
      return { kind: 'reboot' };
    case 'sfdisk': {
      disk.checkWholeDisk(cmd.device, 'sfdisk');
      const script = await ctx.readStdin();
      let table: ReturnType<typeof parseSfdiskScript>;
      try {
        table = parseSfdiskScript(script, disk.blockDevice);
      } catch (e) {
        if (e instanceof SfdiskScriptError) throw new HardwareError(e.message);
        throw e;
      }
      for (const p of disk.state.partitions) {
        const next = table.partitions.find((q) => q.number === p.number);
        const kept = next && next.type === p.type && next.sizeMiB === p.sizeMiB;
        if (!kept && system.isPartitionInUse(p.number))
          throw new HardwareError(
            `sfdisk: ${disk.deviceName(p.number)} is in use (mounted): umount it first`,
          );
      }
      await disk.applyTable(table);
      return none;
    }
    case 'mkfs':
    case 'mkswap': {
      const p = disk.partitionOfDevice(cmd.device, cmd.kind);
      if (system.isPartitionInUse(p.number))
        throw new HardwareError(`${cmd.kind}: ${cmd.device} is mounted; will not make a filesystem here!`);
      if (cmd.kind === 'mkfs') await disk.format(cmd.device, cmd.fstype);
      else await disk.formatSwap(cmd.device);
      return none;
    }
    case 'mount':
      await mount(system, cmd.device, cmd.dir);
      return none;
    case 'bind-mount':
      await bindMount(system, cmd.source, cmd.dir);
      return none;
    case 'mount-list':
      ctx.writeStdout(system.mountTable());
      return none;
    case 'umount':
      umount(system, cmd.dir);
      return none;
    case 'grub-install': {
      disk.checkWholeDisk(cmd.device, 'grub-install');
      const dir = normalizeViewPath(cmd.bootDir, 'grub-install');
      const r = system.resolve(dir);
      if (r?.partition === undefined || (await statWithoutSymlinks(r.base, r.rel)) !== 'dir')
        throw new HardwareError(
          `grub-install: error: failed to get canonical path of '${dir}' (not a directory on a partition of ${disk.blockDevice})`,
        );
      await disk.setBootPartition(r.partition);
      return none;
    }
    case 'kexec-load':
      system.kexec = await kexecLoad(ctx, cmd.kernel, cmd.initrd, cmd.append);
      return none;
    case 'kexec-exec':
      if (!system.kexec) throw new HardwareError('kexec: Nothing has been loaded!');
      return { kind: 'kexec', outcome: system.kexec };
  }
}

async function mount(system: BootedSystem, device: string, dirArg: string): Promise<void> {
  const disk = system.disk;
  const fail = (msg: string): never => {
    throw new HardwareError(`mount: ${msg}`, MOUNT_FAILURE);
  };
  let p: ReturnType<typeof disk.partitionOfDevice>;
  try {
    p = disk.partitionOfDevice(device, 'mount');
  } catch (e) {
    return fail(`${device}: special device does not exist (${(e as Error).message})`);
  }
  let dir: string;
  try {
    dir = normalizeViewPath(dirArg, 'mount');
  } catch (e) {
    return fail((e as Error).message.replace(/^mount: /, ''));
  }
  if (system.isPartitionInUse(p.number) || system.mounts.some((m) => m.mountPoint === dir))
    fail(`${dir}: ${device} already mounted or mount point busy.`);
  if ((await stat(disk.imgPath(p.number)).catch(() => undefined))?.size)
    await importRawImage(system, p.number);
  if (p.fs === 'none' || p.fs === 'swap')
    fail(
      `${dir}: wrong fs type, bad option, bad superblock on ${device}, missing codepage or helper program, or other error (the partition is ${p.fs === 'swap' ? 'swap' : 'not formatted'}).`,
    );
  const r = system.resolve(dir);
  if (!r)
    fail(
      `${dir}: mount point does not exist (the node's writable file systems are ${system.isDeployEnv ? '/root, /tmp, /mnt and' : ''} its mounted partitions).`,
    );
  const kind = await statWithoutSymlinks(
    (r as NonNullable<typeof r>).base,
    (r as NonNullable<typeof r>).rel,
  ).catch((e: Error) => fail(`${dir}: ${e.message}`));
  if (kind !== 'dir') fail(`${dir}: mount point does not exist.`);
  system.mounts.push({ mountPoint: dir, partition: p.number });
}

/**
 * `mount -o bind SRC DIR`: SRC must be a directory of one of the node's partitions (walked without
 * following links, like every path the node resolves), DIR a directory not already a mount point.
 * The sandbox then binds that partition directory at DIR, as Linux would show it.
 */
async function bindMount(system: BootedSystem, srcArg: string, dirArg: string): Promise<void> {
  const fail = (msg: string): never => {
    throw new HardwareError(`mount: ${msg}`, MOUNT_FAILURE);
  };
  const paths = [srcArg, dirArg].map((a) => {
    try {
      return normalizeViewPath(a, 'mount');
    } catch (e) {
      return fail((e as Error).message.replace(/^mount: /, ''));
    }
  });
  const [src, dir] = paths as [string, string];
  if (system.mounts.some((m) => m.mountPoint === dir)) fail(`${dir}: mount point busy.`);
  const from = system.resolve(src);
  if (from?.partition === undefined)
    fail(`${src}: special device does not exist (bind mounts take a directory of the node's partitions).`);
  const to = system.resolve(dir);
  if (!to) fail(`${dir}: mount point does not exist.`);
  for (const [what, r] of [
    [src, from],
    [dir, to],
  ] as const) {
    const ok = r as NonNullable<typeof r>;
    const kind = await statWithoutSymlinks(ok.base, ok.rel).catch((e: Error) =>
      fail(`${what}: ${e.message}`),
    );
    if (kind !== 'dir') fail(`${what}: not a directory.`);
  }
  const f = from as NonNullable<typeof from>;
  // The source as a path inside its partition: the mount it lies in may itself be a bind mount.
  const partRoot = system.disk.partitionDir(f.partition as number);
  const sourceRel = path.relative(partRoot, path.join(f.base, f.rel));
  system.mounts.push({ mountPoint: dir, partition: f.partition as number, sourceRel });
}

function umount(system: BootedSystem, arg: string): void {
  const disk = system.disk;
  let target: string;
  try {
    target = normalizeViewPath(arg, 'umount');
  } catch (e) {
    throw new HardwareError((e as Error).message, MOUNT_FAILURE);
  }
  const m = system.mounts.find((x) => x.mountPoint === target || disk.deviceName(x.partition) === target);
  if (!m) throw new HardwareError(`umount: ${target}: not mounted.`, MOUNT_FAILURE);
  if (system.mounts.some((x) => x !== m && x.mountPoint.startsWith(`${m.mountPoint}/`)))
    throw new HardwareError(`umount: ${m.mountPoint}: target is busy.`, MOUNT_FAILURE);
  system.mounts = system.mounts.filter((x) => x !== m);
}

async function kexecLoad(
  ctx: HardwareContext,
  kernelArg: string,
  initrdArg: string | undefined,
  append: string,
): Promise<BootOutcome> {
  const { system } = ctx;
  const disk = system.disk;
  const kernel = normalizeViewPath(kernelArg, 'kexec');
  const fileOn = async (path: string) => {
    const r = system.resolve(path);
    if (!r || (await statWithoutSymlinks(r.base, r.rel)) !== 'file')
      throw new HardwareError(`kexec: Cannot open \`${path}': No such file or directory`);
    return r;
  };
  const r = await fileOn(kernel);
  if (initrdArg !== undefined) await fileOn(normalizeViewPath(initrdArg, 'kexec'));
  // As Linux decides its root: `root=/dev/sdaN` boots the system on that partition; without it
  // the kernel runs from its initrd, which for the deployment environment's kernel (sent by the
  // engine under its own name) is the deployment environment.
  const root = /(?:^|\s)root=(\S+)/.exec(append)?.[1];
  if (root === undefined && basename(kernel) === basename(ctx.deployKernel)) return { kind: 'deploy_env' };
  const partition = root !== undefined ? disk.partitionOfDevice(root, 'kexec').number : r.partition;
  if (partition === undefined)
    throw new HardwareError(
      `kexec: cannot tell which partition ${kernel} boots (no root= in --append and not on a mounted partition)`,
    );
  return { kind: 'partition', partition, kernel };
}
