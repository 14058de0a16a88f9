import type { Logger } from '../../common/logger.js';
import type { NodeConfig, SiteConfig } from '../../common/site-config-types.js';
import type { Compression, ImageKind } from '../../formats/node-commands.js';
import type { ExecOptions, ExecResult, SshTarget } from '../ssh/types.js';

/**
 * Everything the micro-steps need to act on nodes for one deployment. Defined here (not in the
 * engine) so the node side does not depend on the store's types: the engine maps its records to it.
 */
export interface ArchiveSpec {
  /** A local readable file. */
  path: string;
  compression: Compression;
  /** Script to run from the extracted archive's directory; 'none' = extract only. */
  script: string;
}

export interface EnvironmentSpec {
  name: string;
  version: number;
  os: 'linux' | 'xen' | 'other';
  /** A local readable file, already checksum-verified by the engine. */
  image: { path: string; kind: ImageKind; compression: Compression; md5: string };
  /** Paths inside the deployed system (e.g. /boot/vmlinuz). Mandatory for tar images that boot. */
  kernel?: string;
  initrd?: string;
  kernelParams?: string;
  /** mkfs type of the deploy partition (tar images); default ext4. */
  filesystem?: string;
  preinstall?: ArchiveSpec;
  postinstalls: ArchiveSpec[];
}

export interface DeploymentSpec {
  wid: string;
  user: string;
  site: SiteConfig;
  /** The nodes of this deployment, in node-file order (the broadcast chain order). */
  nodes: NodeConfig[];
  env: EnvironmentSpec;
  /** Deploy partition number (-p); default the cluster's. */
  partition?: number;
  /** authorized_keys text for -k (already read by the client). */
  keys?: string;
  disableBootloaderInstall: boolean;
  disableDiskPartitioning: boolean;
  /** mkfs type for format_tmp_part (-r). */
  reformatTmp?: string;
  /** --vlan: this site has no VLAN switching, set_vlan fails clearly when one is asked. */
  vlan?: string;
  /** Expressions of n (node count), in seconds; default the cluster's timeouts. */
  rebootClassicalTimeout?: string;
  rebootKexecTimeout?: string;
  debug: boolean;
}

/** The part of the SSH pool (src/engine/ssh) the steps use; SshPool satisfies it. */
export interface NodeShell {
  exec(target: SshTarget, command: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Logs in without running a command (SshPool has it); without it, wait_reboot runs `true`. */
  connect?(
    target: SshTarget,
    opts?: Pick<ExecOptions, 'signal' | 'timeoutMs' | 'trustOnFirstUse'>,
  ): Promise<void>;
  /** Drops the node's connection after a reboot (the next exec reconnects). */
  forget(node: string): void;
}

/** Intervals and bounds of the node side. Reference values in comments; tests use small ones. */
export interface StepTuning {
  /** wait_reboot: pause before the first poll (Kadeploy: 20 s; 0 on a virtual site). */
  waitRebootInitialDelayMs: number;
  /** wait_reboot: poll period (Kadeploy: 5 s; 1 s on a virtual site). */
  waitRebootPollMs: number;
  /** One TCP probe of a port. */
  probeTimeoutMs: number;
  /** One power/reboot command (argv or HTTP). */
  powerCommandTimeoutMs: number;
  /** One short node command (mkfs, mount, sfdisk, key files...). 0 = only the step's signal. */
  nodeCommandTimeoutMs: number;
  /** Nodes acted on at once by ordinary micro-steps (default: the site's check window). */
  nodeConcurrency?: number;
  /** Images sent at once by the unicast broadcast. */
  unicastConcurrency: number;
  /** TCP port of the broadcast relays on the nodes (chain, tree, Kascade rounds use port + round). */
  relayPort: number;
  /**
   * Whether the nodes' kaploy-relay forwards to several `--next` (a real tree; the contract's relay
   * and the virtual node's do). Without it the Tree broadcast runs as two chains fed by the engine.
   */
  relayMultiNext: boolean;
  /** How long the engine retries connecting to a starting relay. */
  relayConnectTimeoutMs: number;
  /** Where pre/postinstall archives are extracted on the node (Kadeploy: /rambin; /tmp works on every deployment env, the virtual one included). */
  prepostDir: string;
  /** Where send_deployment_kernel puts the deployment kernel on a node running production. */
  deployKernelDir: string;
  /** dummy micro-step pause. */
  dummyMs: number;
}

export const DEFAULT_TUNING: StepTuning = {
  waitRebootInitialDelayMs: 20_000,
  waitRebootPollMs: 5_000,
  probeTimeoutMs: 2_000,
  powerCommandTimeoutMs: 60_000,
  nodeCommandTimeoutMs: 300_000,
  unicastConcurrency: 8,
  relayPort: 25400,
  relayConnectTimeoutMs: 30_000,
  relayMultiNext: true,
  prepostDir: '/tmp/kaploy-prepost',
  deployKernelDir: '/tmp/kaploy-deploy-kernel',
  dummyMs: 100,
};

export interface StepDeps {
  pool: NodeShell;
  logger: Logger;
  tuning?: Partial<StepTuning>;
  /** Evaluates timeout expressions of n (default: the workflow's parser, src/engine/workflow/timeout-expr.ts). */
  evalTimeout?: (expr: string, n: number) => number;
  /** Forces one broadcast for every BroadcastEnv implementation (benchmarks; sites without relays). */
  broadcast?: 'unicast' | 'chain' | 'kascade' | 'tree';
  /** wait_reboot's pause between rounds (default: node's timers); a test gives its fake clock's. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Told when nodes join (+1) or leave (-1) the reboot window's queue (the engine's metrics). */
  onRebootQueue?: (delta: number) => void;
  /** Told of the image bytes each broadcast sends (the engine's metrics). */
  onBroadcastBytes?: (method: string, bytes: number) => void;
}
