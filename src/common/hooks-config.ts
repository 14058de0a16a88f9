import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { KaployError } from './errors.js';

/**
 * The OAR hooks' configuration (`/etc/kaploy/oar-hooks.yaml`, or `$KAPLOY_OAR_HOOKS_CONFIG`): how
 * the hooks reach the engine and OAR, and (section `restore`) how the engine's restore worker puts
 * nodes back in service. Read -> validate (file and key in every message) -> normalise (ms).
 */
export interface HooksConfig {
  file: string;
  engineUrl: string;
  adminTokenFile: string;
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

export function hooksConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.KAPLOY_OAR_HOOKS_CONFIG || DEFAULT_HOOKS_CONFIG_FILE;
}

/** Reads and validates the file; throws KAPLOY_CONFIG naming the file and key. */
export function loadHooksConfig(file: string): HooksConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new KaployError(
      'KAPLOY_CONFIG',
      `cannot read the OAR hooks configuration ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      {
        file,
      },
    );
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new KaployError(
      'KAPLOY_CONFIG',
      `${file}: not valid YAML: ${(e as Error).message.split('\n')[0]}`,
      { file },
    );
  }
  return parseHooksConfig(doc, file);
}

const TOP_KEYS = new Set([
  'engine_url',
  'admin_token_file',
  'partitions',
  'production_env',
  'deadline_seconds',
  'request_timeout_seconds',
  'grant_retry_seconds',
  'command_timeout_seconds',
  'spool_dir',
  'oarstat',
  'oarnodesetting',
  'restore',
]);
const RESTORE_KEYS = new Set([
  'concurrency',
  'group_max',
  'max_attempts',
  'retry_delay_seconds',
  'node_timeout_seconds',
  'command_timeout_seconds',
  'alive_command',
  'alive_batch',
  'hold_commands',
]);

export function parseHooksConfig(doc: unknown, file: string): HooksConfig {
  const v = new Validator(file);
  const top = v.object(doc, '(top level)');
  v.noUnknownKeys(top, TOP_KEYS, '');
  const engineUrl = v.url(top.engine_url, 'engine_url');
  const adminTokenFile = v.absPath(top.admin_token_file, 'admin_token_file');
  const partitions =
    top.partitions === undefined
      ? [...HOOKS_DEFAULTS.partitions]
      : v.partitions(top.partitions, 'partitions');
  const productionEnv =
    top.production_env === undefined
      ? HOOKS_DEFAULTS.productionEnv
      : v.envName(top.production_env, 'production_env');
  const deadlineMs = v.seconds(top.deadline_seconds, 'deadline_seconds', HOOKS_DEFAULTS.deadlineMs, 1, 3600);
  const requestTimeoutMs = v.seconds(
    top.request_timeout_seconds,
    'request_timeout_seconds',
    HOOKS_DEFAULTS.requestTimeoutMs,
    0.1,
    600,
  );
  const grantRetryMs = v.seconds(
    top.grant_retry_seconds,
    'grant_retry_seconds',
    HOOKS_DEFAULTS.grantRetryMs,
    0,
    3600,
  );
  const commandTimeoutMs = v.seconds(
    top.command_timeout_seconds,
    'command_timeout_seconds',
    HOOKS_DEFAULTS.commandTimeoutMs,
    0.1,
    600,
  );
  if (requestTimeoutMs >= deadlineMs) v.fail('request_timeout_seconds', 'must be below deadline_seconds');
  if (commandTimeoutMs >= deadlineMs) v.fail('command_timeout_seconds', 'must be below deadline_seconds');
  const spoolDir =
    top.spool_dir === undefined ? HOOKS_DEFAULTS.spoolDir : v.absPath(top.spool_dir, 'spool_dir');
  const oarstat = top.oarstat === undefined ? HOOKS_DEFAULTS.oarstat : v.absPath(top.oarstat, 'oarstat');
  const oarnodesetting =
    top.oarnodesetting === undefined
      ? HOOKS_DEFAULTS.oarnodesetting
      : v.absPath(top.oarnodesetting, 'oarnodesetting');
  return {
    file,
    engineUrl,
    adminTokenFile,
    partitions,
    productionEnv,
    deadlineMs,
    requestTimeoutMs,
    grantRetryMs,
    commandTimeoutMs,
    spoolDir,
    oarstat,
    oarnodesetting,
    restore: parseRestore(v, top.restore),
  };
}

function parseRestore(v: Validator, raw: unknown): RestoreConfig {
  if (raw === undefined) return { ...RESTORE_DEFAULTS };
  const r = v.object(raw, 'restore');
  v.noUnknownKeys(r, RESTORE_KEYS, 'restore.');
  const aliveCommand =
    r.alive_command === undefined
      ? RESTORE_DEFAULTS.aliveCommand
      : v.argv(r.alive_command, 'restore.alive_command', ['{node}']);
  const aliveBatch = v.int(r.alive_batch, 'restore.alive_batch', RESTORE_DEFAULTS.aliveBatch, 1, 10_000);
  if (aliveBatch > 1 && aliveCommand.some((w) => w.includes('{node}') && w !== '{node}'))
    v.fail(
      'restore.alive_command',
      '{node} must be a word of its own to be repeated for several nodes (or set restore.alive_batch: 1)',
    );
  return {
    concurrency: v.int(r.concurrency, 'restore.concurrency', RESTORE_DEFAULTS.concurrency, 1, 10_000),
    groupMax: v.int(r.group_max, 'restore.group_max', RESTORE_DEFAULTS.groupMax, 1, 10_000),
    maxAttempts: v.int(r.max_attempts, 'restore.max_attempts', RESTORE_DEFAULTS.maxAttempts, 1, 100),
    retryDelayMs: v.seconds(
      r.retry_delay_seconds,
      'restore.retry_delay_seconds',
      RESTORE_DEFAULTS.retryDelayMs,
      0,
      86_400,
    ),
    nodeTimeoutMs: v.seconds(
      r.node_timeout_seconds,
      'restore.node_timeout_seconds',
      RESTORE_DEFAULTS.nodeTimeoutMs,
      1,
      86_400,
    ),
    commandTimeoutMs: v.seconds(
      r.command_timeout_seconds,
      'restore.command_timeout_seconds',
      RESTORE_DEFAULTS.commandTimeoutMs,
      0.1,
      3600,
    ),
    aliveCommand,
    aliveBatch,
    holdCommands:
      r.hold_commands === undefined
        ? RESTORE_DEFAULTS.holdCommands
        : v
            .list(r.hold_commands, 'restore.hold_commands')
            .map((c, i) => v.argv(c, `restore.hold_commands[${i}]`, ['{node}'])),
  };
}

/** Validation helpers: every failure names the file and the key. */
class Validator {
  constructor(private readonly file: string) {}

  fail(key: string, what: string): never {
    throw new KaployError('KAPLOY_CONFIG', `${this.file}: ${key}: ${what}`, { file: this.file, key });
  }

  object(x: unknown, key: string): Record<string, unknown> {
    if (x === null || typeof x !== 'object' || Array.isArray(x))
      this.fail(key, 'expected a mapping of keys to values');
    return x as Record<string, unknown>;
  }

  noUnknownKeys(o: Record<string, unknown>, known: Set<string>, prefix: string): void {
    for (const k of Object.keys(o))
      if (!known.has(k)) this.fail(`${prefix}${k}`, `unknown key (known: ${[...known].join(', ')})`);
  }

  string(x: unknown, key: string): string {
    if (typeof x !== 'string' || x === '')
      this.fail(key, x === undefined ? 'missing (required)' : 'expected a non-empty string');
    return x;
  }

  url(x: unknown, key: string): string {
    const s = this.string(x, key);
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      this.fail(key, `'${s}' is not a URL (expected http://HOST:PORT)`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      this.fail(key, `'${s}': expected an http:// or https:// URL`);
    return s.replace(/\/+$/, '');
  }

  absPath(x: unknown, key: string): string {
    const s = this.string(x, key);
    if (!s.startsWith('/') || /[\0\n\r]/.test(s)) this.fail(key, `'${s}': expected an absolute path`);
    return s;
  }

  envName(x: unknown, key: string): string {
    const s = this.string(x, key);
    if (!/^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/.test(s)) this.fail(key, `'${s}': not an environment name`);
    return s;
  }

  list(x: unknown, key: string): unknown[] {
    if (!Array.isArray(x) || x.length === 0) this.fail(key, 'expected a non-empty list');
    return x;
  }

  partitions(x: unknown, key: string): string[] {
    return this.list(x, key).map((p, i) => {
      const s = typeof p === 'number' ? String(p) : p;
      if (typeof s !== 'string' || !/^(\*|\/dev\/[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*|[0-9]{1,3})$/.test(s)) {
        this.fail(`${key}[${i}]`, `'${String(p)}': expected /dev/NAME, a partition number or *`);
      }
      return s;
    });
  }

  argv(x: unknown, key: string, mustContain: string[]): string[] {
    const a = this.list(x, key).map((w, i) => {
      if (typeof w !== 'string' || w === '') this.fail(`${key}[${i}]`, 'expected a non-empty string');
      return w;
    });
    if (!(a[0] ?? '').startsWith('/'))
      this.fail(`${key}[0]`, 'the program must be an absolute path (OAR gives hooks no useful PATH)');
    for (const m of mustContain) if (!a.some((w) => w.includes(m))) this.fail(key, `must contain ${m}`);
    return a;
  }

  seconds(x: unknown, key: string, dflt: number, min: number, max: number): number {
    if (x === undefined) return dflt;
    if (typeof x !== 'number' || !Number.isFinite(x) || x < min || x > max)
      this.fail(key, `expected a number of seconds from ${min} to ${max}`);
    return Math.round(x * 1000);
  }

  int(x: unknown, key: string, dflt: number, min: number, max: number): number {
    if (x === undefined) return dflt;
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max)
      this.fail(key, `expected an integer from ${min} to ${max}`);
    return x;
  }
}
