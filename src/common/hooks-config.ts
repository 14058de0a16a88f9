import { adminReporter, type ConfigReporter, checkAgainstSchema, parseAdminYaml } from './config/pipeline.js';
import { readConfigText } from './config/read-file.js';
import { compileSchema } from './config/schema.js';
import type { YamlSource } from './config/yaml-source.js';
import { HOOKS_SCHEMA, HOOKS_VALIDATOR } from './hooks-config-schema.js';
import { DEFAULT_HOOKS_CONFIG_FILE, type HooksConfig, type RestoreConfig } from './hooks-config-types.js';

export * from './hooks-config-types.js';

/** The file as written, once the schema step has checked it and filled its defaults. */
interface HooksFile {
  engine_url: string;
  admin_token_file: string;
  engine_ca?: string;
  partitions: (string | number)[];
  production_env: string;
  deadline_seconds: number;
  request_timeout_seconds: number;
  grant_retry_seconds: number;
  command_timeout_seconds: number;
  spool_dir: string;
  oarstat: string;
  oarnodesetting: string;
  restore: {
    concurrency: number;
    group_max: number;
    max_attempts: number;
    retry_delay_seconds: number;
    node_timeout_seconds: number;
    command_timeout_seconds: number;
    alive_command: string[];
    alive_batch: number;
    hold_commands: string[][];
  };
}

const schema = compileSchema(HOOKS_SCHEMA, { ...HOOKS_VALIDATOR, missing: 'missing (required)' });

export function hooksConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.KAPLOY_OAR_HOOKS_CONFIG || DEFAULT_HOOKS_CONFIG_FILE;
}

/** Reads and validates the file; throws KAPLOY_CONFIG naming the file and key (and line). */
export function loadHooksConfig(file: string): HooksConfig {
  const source = parseAdminYaml(readConfigText(file, 'the OAR hooks configuration'), file);
  return hooksConfigFrom(source.data, file, source);
}

function hooksConfigFrom(doc: unknown, file: string, source?: YamlSource): HooksConfig {
  const r = adminReporter(file, source, '(top level)');
  checkAgainstSchema(schema, doc, 'refuse', r);
  const cfg = normalise(doc as HooksFile, file, r);
  crossFieldRules(cfg, r);
  return cfg;
}

const ms = (seconds: number) => Math.round(seconds * 1000);

function normalise(f: HooksFile, file: string, r: ConfigReporter): HooksConfig {
  try {
    new URL(f.engine_url);
  } catch {
    r.fail(['engine_url'], `'${f.engine_url}' is not a URL (expected http://HOST:PORT)`);
  }
  const restore: RestoreConfig = {
    concurrency: f.restore.concurrency,
    groupMax: f.restore.group_max,
    maxAttempts: f.restore.max_attempts,
    retryDelayMs: ms(f.restore.retry_delay_seconds),
    nodeTimeoutMs: ms(f.restore.node_timeout_seconds),
    commandTimeoutMs: ms(f.restore.command_timeout_seconds),
    aliveCommand: f.restore.alive_command,
    aliveBatch: f.restore.alive_batch,
    holdCommands: f.restore.hold_commands,
  };
  return {
    file,
    engineUrl: f.engine_url.replace(/\/+$/, ''),
    adminTokenFile: f.admin_token_file,
    ...(f.engine_ca === undefined ? {} : { engineCaFile: f.engine_ca }),
    partitions: f.partitions.map(String),
    productionEnv: f.production_env,
    deadlineMs: ms(f.deadline_seconds),
    requestTimeoutMs: ms(f.request_timeout_seconds),
    grantRetryMs: ms(f.grant_retry_seconds),
    commandTimeoutMs: ms(f.command_timeout_seconds),
    spoolDir: f.spool_dir,
    oarstat: f.oarstat,
    oarnodesetting: f.oarnodesetting,
    restore,
  };
}

/** Rules between keys, and on argument vectors, that a schema cannot say. */
function crossFieldRules(c: HooksConfig, r: ConfigReporter): void {
  if (c.requestTimeoutMs >= c.deadlineMs)
    r.fail(['request_timeout_seconds'], 'must be below deadline_seconds');
  if (c.commandTimeoutMs >= c.deadlineMs)
    r.fail(['command_timeout_seconds'], 'must be below deadline_seconds');
  const { aliveCommand, aliveBatch, holdCommands } = c.restore;
  argvRules(aliveCommand, ['restore', 'alive_command'], r);
  holdCommands.forEach((cmd, i) => {
    argvRules(cmd, ['restore', 'hold_commands', i], r);
  });
  if (aliveBatch > 1 && aliveCommand.some((w) => w.includes('{node}') && w !== '{node}'))
    r.fail(
      ['restore', 'alive_command'],
      '{node} must be a word of its own to be repeated for several nodes (or set restore.alive_batch: 1)',
    );
}

function argvRules(argv: string[], path: (string | number)[], r: ConfigReporter): void {
  if (!(argv[0] ?? '').startsWith('/'))
    r.fail([...path, 0], 'the program must be an absolute path (OAR gives hooks no useful PATH)');
  if (!argv.some((w) => w.includes('{node}'))) r.fail(path, 'must contain {node}');
}
