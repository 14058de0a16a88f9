/**
 * The OAR hooks' configuration (`/etc/kaploy/oar-hooks.yaml`, or `$KAPLOY_OAR_HOOKS_CONFIG`): how
 * the hooks reach the engine and OAR, and (section `restore`) how the engine's restore worker puts
 * nodes back in service: the normalised form (times in ms) and the defaults. The file's keys are
 * described by hooks-config-schema.ts; hooks-config.ts loads it.
 */
export interface HooksConfig {
  file: string;
  engineUrl: string;
  adminTokenFile: string;
  /** `engine_ca`: what an https engine's certificate is verified against (absent: the system's CAs). */
  engineCaFile?: string;
  /** Partitions granted to the job owner: the deploy partition (`/dev/sda3`, a number, or `*`). */
  partitions: string[];
  /** Production environment name recorded with each restore request (the engine's default if empty). */
  productionEnv: string;
  /** Whole-hook deadline; below OAR's SERVER_PROLOGUE_EPILOGUE_TIMEOUT (60 s by default). */
  deadlineMs: number;
  /** One HTTP request to the engine. */
  requestTimeoutMs: number;
  /** How long the prologue keeps retrying the grant while the engine does not answer. */
  grantRetryMs: number;
  /** One oarstat / oarnodesetting run. */
  commandTimeoutMs: number;
  spoolDir: string;
  oarstat: string;
  oarnodesetting: string;
  restore: RestoreConfig;
}

export interface RestoreConfig {
  /** Nodes restored at once by the engine (all groups together). */
  concurrency: number;
  /**
   * Most nodes restored together, by one reboot operation and one deployment (nodes due at the
   * same time with the same production environment, typically a job's nodes).
   */
  groupMax: number;
  /** Attempts per node before it is held out of service (an admin's retry starts a new round). */
  maxAttempts: number;
  /** Delay before the second attempt; doubled for each further one. */
  retryDelayMs: number;
  /** Bound on one restore, of a node or of a group (reboot, then full redeployment if needed). */
  nodeTimeoutMs: number;
  /** One put-back / hold-out command. */
  commandTimeoutMs: number;
  /** Puts restored nodes back in service; `{node}` is replaced (repeated per node, see aliveBatch). */
  aliveCommand: string[];
  /**
   * Most nodes put back by one run of aliveCommand (nodes restored while a run is going are put
   * back together by the next one); 1: one run per node.
   */
  aliveBatch: number;
  /** Holds a node out of service; `{node}` and `{reason}` are replaced. */
  holdCommands: string[][];
}

export const DEFAULT_HOOKS_CONFIG_FILE = '/etc/kaploy/oar-hooks.yaml';

export const HOOKS_DEFAULTS = {
  partitions: ['/dev/sda3'],
  productionEnv: '',
  deadlineMs: 45_000,
  requestTimeoutMs: 10_000,
  grantRetryMs: 15_000,
  commandTimeoutMs: 20_000,
  spoolDir: '/var/lib/kaploy/oar-spool',
  oarstat: '/usr/bin/oarstat',
  oarnodesetting: '/usr/sbin/oarnodesetting',
} as const;

export const RESTORE_DEFAULTS: RestoreConfig = {
  // A job's nodes in one wave: with 50, a 64-node job's last 14 nodes waited for a whole restore
  // of the first 50 (bench/oar-restore.mjs: +2.5 s on virtual nodes, a redeployment on real ones).
  concurrency: 200,
  // A job's nodes restored by one reboot / one deployment (one image broadcast, not one stream
  // per node); a bound keeps one bad group from holding too many nodes.
  groupMax: 500,
  maxAttempts: 2,
  retryDelayMs: 60_000,
  nodeTimeoutMs: 3_600_000,
  commandTimeoutMs: 30_000,
  aliveCommand: ['/usr/sbin/oarnodesetting', '-s', 'Alive', '-h', '{node}'],
  // `oarnodesetting -s Alive -h N1 -h N2 ...`: one Perl start and one OAR call for many nodes.
  aliveBatch: 100,
  // OAR 2.5.9's oarnodesetting allows only Alive, Absent and Dead (Suspected came with 2.5.10), so
  // the node is held Absent and the reason recorded in a resource property the setup creates
  // (oarproperty -a kaploy_reason -c). -n: no job runs there, nothing to wait for.
  holdCommands: [
    ['/usr/sbin/oarnodesetting', '-n', '-s', 'Absent', '-h', '{node}'],
    ['/usr/sbin/oarnodesetting', '-h', '{node}', '-p', 'kaploy_reason={reason}'],
  ],
};
