import type { ValidatorOptions } from './config/ajv-instance.js';
import type { ConfigSchema } from './config/schema-types.js';
import { HOOKS_DEFAULTS, RESTORE_DEFAULTS } from './hooks-config-types.js';

/** The OAR hooks configuration file (`/etc/kaploy/oar-hooks.yaml`), as a JSON Schema. */
const ABS_PATH = '^/[^\\0\\n\\r]*$';
const absPath = (description: string, dflt?: string): ConfigSchema => ({
  type: 'string',
  pattern: ABS_PATH,
  minLength: 1,
  description,
  ...(dflt === undefined ? {} : { default: dflt }),
  message: { pattern: "'{value}': expected an absolute path", type: 'expected a non-empty string' },
});
const seconds = (description: string, dfltMs: number, minimum: number, maximum: number): ConfigSchema => ({
  type: 'number',
  minimum,
  maximum,
  default: dfltMs / 1000,
  description,
  message: 'expected a number of seconds from {minimum} to {maximum}',
});
const int = (description: string, dflt: number, minimum: number, maximum: number): ConfigSchema => ({
  type: 'integer',
  minimum,
  maximum,
  default: dflt,
  description,
});
// Checked further by the cross-field step: the program is an absolute path, `{node}` is present.
const ARGV: ConfigSchema = {
  type: 'array',
  minItems: 1,
  items: { type: 'string', minLength: 1 },
};
const argv = (description: string, dflt: unknown): ConfigSchema => ({ ...ARGV, default: dflt, description });

/** How the hooks configuration's validator is built (and precompiled: ajv-instance.ts). */
export const HOOKS_VALIDATOR: ValidatorOptions = { useDefaults: true, precompiled: 'hooks-config' };

export const HOOKS_SCHEMA: ConfigSchema = {
  type: 'object',
  message: { type: 'expected a mapping of keys to values' },
  required: ['engine_url', 'admin_token_file'],
  additionalProperties: false,
  properties: {
    engine_url: {
      type: 'string',
      pattern: '^https?://',
      description: 'The site engine (http://HOST:PORT).',
      message: {
        type: 'expected a non-empty string',
        pattern: "'{value}': expected an http:// or https:// URL",
      },
    },
    engine_ca: absPath(
      'PEM file of the CA that signed an https engine’s certificate, or that certificate itself (pinned). Absent: the system’s CAs.',
    ),
    admin_token_file: absPath(
      "An admin's token (`kaploy server token --user kaadmin --out FILE --owner oar:oar`), mode 600, owned by oar.",
    ),
    partitions: {
      type: 'array',
      minItems: 1,
      items: {
        type: ['string', 'integer'],
        pattern: '^(\\*|/dev/[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*|[0-9]{1,3})$',
        minimum: 0,
        maximum: 999,
        message: "'{value}': expected /dev/NAME, a partition number or *",
      },
      default: [...HOOKS_DEFAULTS.partitions],
      description: 'Partitions granted to the job owner: /dev/NAME, a partition number, or * (every one).',
    },
    production_env: {
      type: 'string',
      pattern: '^([A-Za-z0-9][A-Za-z0-9._+-]{0,127})?$',
      default: HOOKS_DEFAULTS.productionEnv,
      defaultText: "the engine's `production.environment`",
      description: 'Production environment sent with each restore request.',
      message: "'{value}': not an environment name",
    },
    deadline_seconds: seconds(
      "A hook's whole run; must stay below OAR's SERVER_PROLOGUE_EPILOGUE_TIMEOUT.",
      HOOKS_DEFAULTS.deadlineMs,
      1,
      3600,
    ),
    request_timeout_seconds: seconds(
      'One call to the engine; below deadline_seconds.',
      HOOKS_DEFAULTS.requestTimeoutMs,
      0.1,
      600,
    ),
    grant_retry_seconds: seconds(
      'How long the prologue retries the grant while the engine does not answer.',
      HOOKS_DEFAULTS.grantRetryMs,
      0,
      3600,
    ),
    command_timeout_seconds: seconds(
      'One oarstat / oarnodesetting run; below deadline_seconds.',
      HOOKS_DEFAULTS.commandTimeoutMs,
      0.1,
      600,
    ),
    spool_dir: absPath('Undelivered restore requests (owned by oar, mode 700).', HOOKS_DEFAULTS.spoolDir),
    oarstat: absPath('The oarstat program.', HOOKS_DEFAULTS.oarstat),
    oarnodesetting: absPath('The oarnodesetting program.', HOOKS_DEFAULTS.oarnodesetting),
    restore: {
      type: 'object',
      default: {},
      additionalProperties: false,
      description: "How the engine's restore worker puts nodes back in service after a deploy job.",
      properties: {
        concurrency: int(
          'Nodes the engine restores at once (all groups together).',
          RESTORE_DEFAULTS.concurrency,
          1,
          10_000,
        ),
        group_max: int(
          'Most nodes restored together (one reboot operation, one deployment).',
          RESTORE_DEFAULTS.groupMax,
          1,
          10_000,
        ),
        max_attempts: int(
          'Attempts per node before it is held out of service.',
          RESTORE_DEFAULTS.maxAttempts,
          1,
          100,
        ),
        retry_delay_seconds: seconds(
          'Before the second attempt, doubled for each further one.',
          RESTORE_DEFAULTS.retryDelayMs,
          0,
          86_400,
        ),
        node_timeout_seconds: seconds(
          'One restore, of a node or of a group (reboot, then full redeployment if needed).',
          RESTORE_DEFAULTS.nodeTimeoutMs,
          1,
          86_400,
        ),
        command_timeout_seconds: seconds(
          'One put-back / hold-out command.',
          RESTORE_DEFAULTS.commandTimeoutMs,
          0.1,
          3600,
        ),
        alive_command: argv(
          'Puts restored nodes back in service (`{node}`, repeated per node up to alive_batch).',
          RESTORE_DEFAULTS.aliveCommand,
        ),
        alive_batch: int(
          'Most nodes put back by one run of alive_command; 1: one run per node.',
          RESTORE_DEFAULTS.aliveBatch,
          1,
          10_000,
        ),
        hold_commands: {
          type: 'array',
          minItems: 1,
          items: ARGV,
          default: RESTORE_DEFAULTS.holdCommands,
          description: 'Commands holding a failed node out of service, run in order (`{node}`, `{reason}`).',
        },
      },
    },
  },
};
