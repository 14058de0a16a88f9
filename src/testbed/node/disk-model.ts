import { mkdir, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { isExtendedType, type PartitionTable } from '../../formats/sfdisk-script.js';
import { HardwareError } from './hardware-error.js';

/** A partition of the model: its table entry and the file system "on" it. */
export interface PartitionState {
  number: number;
  type: string;
  sizeMiB?: number;
  /** 'none' (never formatted), 'swap', or a file system type such as 'ext4'. */
  fs: string;
}

/** disk/state.json: what survives power cycles. */
export interface DiskState {
  version: 1;
  label: 'dos' | 'gpt' | null;
  partitions: PartitionState[];
  /** The partition whose GRUB the MBR boot loader starts (set by grub-install). */
  bootPartition: number | null;
  power: 'on' | 'off';
}

const FILESYSTEMS = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'vfat', 'jfs', 'reiserfs']);

/**
 * The node's disk: a partition table and per-partition file systems, kept in disk/state.json,
 * with each formatted partition's contents in disk/<dev><N>/ and raw (dd) writes in
 * disk/<dev><N>.img. Acting on it never spawns a process.
 */
export class DiskModel {
  readonly diskDir: string;
  readonly blockDevice: string;
  private readonly base: string;
  state: DiskState;
  private saving: Promise<void> = Promise.resolve();

  constructor(diskDir: string, blockDevice: string, state: DiskState) {
    this.diskDir = diskDir;
    this.blockDevice = blockDevice;
    this.base = basename(blockDevice);
    this.state = state;
  }

  static async load(diskDir: string, blockDevice: string): Promise<DiskModel | undefined> {
    const text = await readFile(join(diskDir, 'state.json'), 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    const state = JSON.parse(text) as DiskState;
    if (state.version !== 1 || !Array.isArray(state.partitions))
      throw new Error(`${diskDir}/state.json: unknown disk state format`);
    return new DiskModel(diskDir, blockDevice, state);
  }

  partitionDir(n: number): string {
    return join(this.diskDir, `${this.base}${n}`);
  }

  imgPath(n: number): string {
    return join(this.diskDir, `${this.base}${n}.img`);
  }

  deviceName(n: number): string {
    return `${this.blockDevice}${n}`;
  }

  partition(n: number): PartitionState | undefined {
    return this.state.partitions.find((p) => p.number === n);
  }

  /** Maps `/dev/sda3` to partition 3, refusing other devices and missing partitions. */
  partitionOfDevice(device: string, what: string): PartitionState {
    const rest = device.startsWith(this.blockDevice) ? device.slice(this.blockDevice.length) : '';
    const n = /^[1-9]\d{0,2}$/.test(rest) ? Number(rest) : Number.NaN;
    const p = Number.isNaN(n) ? undefined : this.partition(n);
    if (!p)
      throw new HardwareError(
        `${what}: ${device}: No such file or directory (not a partition of ${this.blockDevice})`,
      );
    return p;
  }

  checkWholeDisk(device: string, what: string): void {
    if (device !== this.blockDevice)
      throw new HardwareError(`${what}: cannot open ${device}: No such file or directory`);
  }

  /** Writes state.json atomically; saves are serialised so the last state always wins. */
  save(): Promise<void> {
    const text = `${JSON.stringify(this.state, null, 2)}\n`;
    const file = join(this.diskDir, 'state.json');
    const next = this.saving
      .catch(() => undefined)
      .then(async () => {
        await writeFile(`${file}.tmp`, text);
        await rename(`${file}.tmp`, file);
      });
    this.saving = next;
    return next;
  }

  /** Resolves once every save issued so far has been attempted. */
  flush(): Promise<void> {
    return this.saving.catch(() => undefined);
  }

  /**
   * A new partition table. Like a real re-partitioning with the same layout, a partition whose
   * number, type and size are unchanged keeps its file system (production survives the deploy
   * environment's create_partition_table); any other partition is blank.
   */
  async applyTable(table: PartitionTable): Promise<void> {
    const old = this.state.partitions;
    const partitions: PartitionState[] = [];
    for (const spec of table.partitions) {
      const prev = old.find((p) => p.number === spec.number);
      const same = prev && prev.type === spec.type && prev.sizeMiB === spec.sizeMiB;
      const entry: PartitionState = { number: spec.number, type: spec.type, fs: same ? prev.fs : 'none' };
      if (spec.sizeMiB !== undefined) entry.sizeMiB = spec.sizeMiB;
      partitions.push(entry);
      if (!same) await this.wipe(spec.number);
    }
    for (const p of old) if (!partitions.some((q) => q.number === p.number)) await this.remove(p.number);
    this.state.label = table.label;
    this.state.partitions = partitions;
    if (this.state.bootPartition !== null && !partitions.some((p) => p.number === this.state.bootPartition))
      this.state.bootPartition = null;
    await this.save();
  }

  async format(device: string, fstype: string): Promise<void> {
    const p = this.partitionOfDevice(device, 'mkfs');
    if (!FILESYSTEMS.has(fstype))
      throw new HardwareError(`mkfs: failed to execute mkfs.${fstype}: No such file or directory`);
    if (isExtendedType(p.type))
      throw new HardwareError(`mkfs.${fstype}: ${device}: cannot format an extended partition`);
    await this.wipe(p.number);
    p.fs = fstype;
    await this.save();
  }

  async formatSwap(device: string): Promise<void> {
    const p = this.partitionOfDevice(device, 'mkswap');
    if (isExtendedType(p.type))
      throw new HardwareError(`mkswap: ${device}: cannot use an extended partition as swap`);
    await this.wipe(p.number);
    p.fs = 'swap';
    await this.save();
  }

  async setBootPartition(n: number): Promise<void> {
    this.state.bootPartition = n;
    await this.save();
  }

  async setPower(power: 'on' | 'off'): Promise<void> {
    if (this.state.power === power) return;
    this.state.power = power;
    await this.save();
  }

  /** Blank partition: empty contents directory, empty raw image. */
  private async wipe(n: number): Promise<void> {
    const dir = this.partitionDir(n);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await writeFile(this.imgPath(n), '');
  }

  private async remove(n: number): Promise<void> {
    await rm(this.partitionDir(n), { recursive: true, force: true });
    await rm(this.imgPath(n), { force: true });
  }

  /** Empties a partition's contents directory (its raw image is left alone). */
  async clearContents(n: number): Promise<void> {
    await rm(this.partitionDir(n), { recursive: true, force: true });
    await mkdir(this.partitionDir(n), { recursive: true });
  }

  async markFormatted(n: number, fs: string): Promise<void> {
    const p = this.partition(n);
    if (p) p.fs = fs;
    await this.save();
  }

  /** Forgets the raw data written with dd (it has been imported as the partition's contents). */
  async truncateImage(n: number): Promise<void> {
    await truncate(this.imgPath(n), 0).catch(() => writeFile(this.imgPath(n), ''));
  }
}
