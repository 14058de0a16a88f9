import { join } from 'node:path';
import type { BootOutcome } from './boot-resolver.js';
import type { Bind, SandboxSpec } from './bwrap-args.js';
import type { DiskModel } from './disk-model.js';
import { isUnder, relativeTo } from './view-paths.js';

export interface Mount {
  mountPoint: string;
  partition: number;
  /** A bind mount's source directory, relative to the partition's root ('' or absent: its root). */
  sourceRel?: string;
}

/** A view path mapped to the host: `base` (a sandbox directory) and `rel` below it. */
export interface ResolvedPath {
  base: string;
  rel: string;
  /** The partition holding it (undefined: the deployment environment's RAM file system). */
  partition?: number;
}

/** The deployment environment's writable directories (RAM-booted: deployenv/ is wiped at each boot). */
const DEPLOY_ENV_DIRS = ['/etc', '/root', '/tmp', '/mnt'] as const;

/**
 * The running system of a booted node: either the deployment environment (host tools read-only,
 * writable dirs from deployenv/) or a system booted from a partition; plus what is mounted and
 * the kernel loaded for kexec. Lives from the end of a boot to the next reset.
 */
export class BootedSystem {
  readonly rootPartition: number | undefined;
  mounts: Mount[] = [];
  kexec: BootOutcome | undefined;

  constructor(
    readonly disk: DiskModel,
    readonly nodeDir: string,
    readonly deployEnvDir: string,
    readonly hostname: string,
    rootPartition?: number,
  ) {
    this.rootPartition = rootPartition;
  }

  get isDeployEnv(): boolean {
    return this.rootPartition === undefined;
  }

  /** Maps a normalised view path to the sandbox directory holding it (undefined: a read-only host directory). */
  resolve(path: string): ResolvedPath | undefined {
    const mount = [...this.mounts]
      .sort((a, b) => b.mountPoint.length - a.mountPoint.length)
      .find((m) => isUnder(path, m.mountPoint));
    if (mount)
      return {
        base: this.mountSource(mount),
        rel: relativeTo(path, mount.mountPoint),
        partition: mount.partition,
      };
    if (this.rootPartition !== undefined)
      return {
        base: this.disk.partitionDir(this.rootPartition),
        rel: relativeTo(path, '/'),
        partition: this.rootPartition,
      };
    const dir = DEPLOY_ENV_DIRS.find((d) => isUnder(path, d));
    return dir ? { base: join(this.deployEnvDir, dir.slice(1)), rel: relativeTo(path, dir) } : undefined;
  }

  /** The sandbox directory a mount shows: its partition's root, or a bind mount's source in it. */
  mountSource(m: Mount): string {
    const dir = this.disk.partitionDir(m.partition);
    return m.sourceRel ? join(dir, m.sourceRel) : dir;
  }

  /** The mount table as mount(8) prints it: the booted partition on /, then what was mounted. */
  mountTable(): string {
    const fsOf = (n: number) => this.disk.state.partitions.find((p) => p.number === n)?.fs ?? 'none';
    const lines =
      this.rootPartition === undefined
        ? ['tmpfs on / type tmpfs (rw,relatime)']
        : [`${this.disk.deviceName(this.rootPartition)} on / type ${fsOf(this.rootPartition)} (rw,relatime)`];
    lines.push('proc on /proc type proc (rw,nosuid,nodev,noexec,relatime)');
    for (const m of this.mounts)
      lines.push(
        `${this.disk.deviceName(m.partition)} on ${m.mountPoint} type ${fsOf(m.partition)} (rw,relatime)`,
      );
    return `${lines.join('\n')}\n`;
  }

  isPartitionInUse(n: number): boolean {
    return n === this.rootPartition || this.mounts.some((m) => m.partition === n);
  }

  /** root's authorized_keys, as sshd would read it. */
  authorizedKeys(): ResolvedPath {
    return this.resolve('/root/.ssh/authorized_keys') as ResolvedPath;
  }

  sandboxSpec(argv: string[], cwd = this.isDeployEnv ? '/root' : '/'): SandboxSpec {
    const mounts: Bind[] = [...this.mounts]
      .sort((a, b) => a.mountPoint.split('/').length - b.mountPoint.split('/').length)
      .map((m) => ({ host: this.mountSource(m), at: m.mountPoint }));
    const devices: Bind[] = this.disk.state.partitions.map((p) => ({
      host: this.disk.imgPath(p.number),
      at: this.disk.deviceName(p.number),
    }));
    const root: SandboxSpec['root'] =
      this.rootPartition === undefined
        ? {
            kind: 'tools',
            writable: DEPLOY_ENV_DIRS.map((d) => ({ host: join(this.deployEnvDir, d.slice(1)), at: d })),
          }
        : { kind: 'partition', dir: this.disk.partitionDir(this.rootPartition) };
    return { nodeDir: this.nodeDir, hostname: this.hostname, root, mounts, devices, cwd, argv };
  }
}
