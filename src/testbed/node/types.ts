import type { Logger } from '../../common/logger.js';

/** Everything a virtual node needs to know about itself and its site. */
export interface VirtualNodeOptions {
  name: string;
  address: string;
  sshPort: number;
  cluster: string;
  /** This node's sandbox directory (created if absent; everything the node writes stays under it). */
  dir: string;
  /** The site's pxelinux.cfg directory (the engine writes profiles there). */
  bootDir: string;
  pxeFileNaming: 'ip_hex' | 'ip' | 'hostname';
  /** A profile whose KERNEL equals this boots the deployment environment. */
  deployKernel: string;
  /** Opened (TCP, on `address`) while in the deployment environment. */
  markerPort: number;
  /** This node's SSH host private key (OpenSSH format). */
  hostKey: Buffer;
  /** Public key line authorised for root in the deployment environment and in production. */
  engineKey: string;
  /** tar(.gz) installed on the prod partition when the node's disk is first created. */
  productionImage: string;
  partitioning: { blockDevice: string; swap: number; prod: number; deploy: number; tmp: number };
  hardware: {
    bootDelayMs: number;
    /** Firmware/POST time added to every boot but a kexec (default 0). */
    firmwareDelayMs?: number;
    nicBytesPerSec?: number;
    diskBytesPerSec?: number;
  };
  logger?: Logger;
}

export type NodeState = 'off' | 'booting' | 'deploy_env' | 'installed' | 'production' | 'boot_failed';

export interface NodeStatus {
  name: string;
  address: string;
  power: 'on' | 'off';
  state: NodeState;
  bootedPartition?: number;
  bootCount: number;
  faults: Fault[];
}

/**
 * A fault injected on one node. `when` is 'boot', 'reboot' or a regex source matched against the
 * exec'd command line (absent: the fault's natural trigger); `times` limits how often it fires
 * (absent: forever).
 */
export type Fault = { when?: string; times?: number } & (
  | { kind: 'no_reboot' }
  | { kind: 'hang' }
  | { kind: 'drop_connection'; afterBytes?: number }
  | { kind: 'slow_boot'; extraMs: number }
  | { kind: 'slow_disk'; bytesPerSec: number }
  | { kind: 'corrupt_disk' }
  | { kind: 'power_loss' }
);

export type RebootLevel = 'soft' | 'hard' | 'very_hard';
