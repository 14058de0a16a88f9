import type { Logger } from '../../common/logger.js';
import type { BootedSystem } from './booted-system.js';
import type { FaultBook } from './fault-book.js';
import type { AfterCommand } from './hardware-exec.js';
import type { SandboxProcess } from './sandbox-process.js';
import type { TokenBucket } from './token-bucket.js';

/** What the SSH side of a node needs from the node itself (kept narrow so each part stays small). */
export interface NodeRuntime {
  readonly name: string;
  readonly address: string;
  readonly logger: Logger;
  readonly faults: FaultBook;
  readonly deployKernel: string;
  /** NIC token buckets: what the node receives, what it sends (undefined: unlimited). */
  readonly nicIn: TokenBucket | undefined;
  readonly nicOut: TokenBucket | undefined;
  /** The disk's write rate (undefined: unlimited). */
  readonly diskBucket: TokenBucket | undefined;
  /** The running system; undefined unless booted. */
  system(): BootedSystem | undefined;
  /** Registers a process that must die with the running system; returns the unregister function. */
  track(child: SandboxProcess): () => void;
  /**
   * Strips setuid/setgid bits from every file of the node's directory, once the sandboxed
   * command that may have written them has ended; resolves with why it failed, if it did.
   */
  sweepSetId(): Promise<string | undefined>;
  /** Acts what a hardware command asked for once it has answered (reboot, kexec). */
  afterCommand(after: AfterCommand, command: string): void;
  /** The power_loss fault: the node goes dark at once. */
  powerLoss(): void;
}
