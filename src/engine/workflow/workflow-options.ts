/**
 * The facts about one deployment that decide which micro-steps run (reference §3 "Pruning", and
 * Kadeploy's Macrostep::Deploy#load_tasks). Built by the deployment service from the command line,
 * the environment and the cluster configuration; every field not given means "no / none".
 */
export interface WorkflowOptions {
  /** Environment OS (`os` in the environment description). */
  os: 'linux' | 'xen' | 'other';
  /** Image kind. fsa is pruned like dd. */
  imageKind: 'tar' | 'dd' | 'fsa';
  /** -k given: the user's keys are sent. */
  key?: boolean;
  /** --disable-disk-partitioning */
  disableDiskPartitioning?: boolean;
  /** -r FSTYPE: the tmp partition is reformatted. */
  reformatTmp?: string;
  /** The environment has at least one postinstall. */
  userPostinstall?: boolean;
  /** The cluster has an admin postinstall. */
  adminPostinstall?: boolean;
  /** The environment has a preinstall (SetDeploymentEnvUntrusted becomes ...UntrustedCustomPreInstall). */
  preinstall?: boolean;
  /** --disable-bootloader-install */
  disableBootloaderInstall?: boolean;
  /** --vlan ID */
  vlan?: string;
  /** --no-kexec */
  noKexec?: boolean;
  /** Multi-partitioned environment: tmp and swap belong to it. */
  multipart?: boolean;
  /**
   * The deployment partition is not mounted by the deployment kernel (filesystem not supported,
   * or a dd image without a filesystem): everything that needs the mounted system is skipped.
   */
  unmountable?: boolean;
  /** -b DEV without -p: the image is written to the whole device; nothing is partitioned or formatted. */
  wholeBlockDevice?: boolean;
  /** Partition numbers: the one deployed on (-p or the cluster's), and the cluster's swap/tmp ones. */
  partitions?: { deploy: number; swap?: number; tmp?: number };
  /** Seconds: the cluster's classical reboot timeout for n nodes, used when Kexec falls back to Classical. */
  rebootClassicalTimeoutSec?: number;
}
