import { KaployError } from '../common/errors.js';
import { LEVELS, type Level } from '../common/site-config-types.js';

/** The reboot kinds of kareboot3 -r (reference §5), with the implementation name kastat3 shows. */
const REBOOT_KINDS = ['simple', 'set_pxe', 'deploy_env', 'recorded_env'] as const;
export type RebootKind = (typeof REBOOT_KINDS)[number];

export const REBOOT_IMPL: Record<RebootKind, string> = {
  simple: 'Simple',
  set_pxe: 'SetPXE',
  deploy_env: 'DeployEnv',
  recorded_env: 'RecordedEnv',
};

/** Kadeploy 3.1 spelt two kinds differently; the tutorial's users still type them. */
const ALIASES: Record<string, RebootKind> = { simple_reboot: 'simple', env_recorded: 'recorded_env' };

export function parseRebootKind(v: string): RebootKind {
  const k = ALIASES[v] ?? v;
  if ((REBOOT_KINDS as readonly string[]).includes(k)) return k as RebootKind;
  throw new KaployError(
    'KAPLOY_OPTION',
    `unknown reboot kind '${v}': expected one of ${REBOOT_KINDS.join(', ')} (or simple_reboot, env_recorded)`,
  );
}

export function parseLevel(v: string): Level {
  if ((LEVELS as readonly string[]).includes(v)) return v as Level;
  throw new KaployError('KAPLOY_OPTION', `unknown level '${v}': expected one of ${LEVELS.join(', ')}`);
}

/** POST /reboot body. */
export interface RebootRequest {
  kind: RebootKind;
  nodes: string[];
  level?: Level;
  /** recorded_env: the environment to boot and the partition it is installed on. */
  environment?: { name: string; user?: string; version?: number };
  partition?: number;
  /** deploy_env: authorized_keys text for root in the deployment environment (-k). */
  keys?: string;
  /** set_pxe: the PXE profile text (-w FILE, read by the client, validated and written by the engine). */
  pxeProfile?: string;
  checkDestructive?: boolean;
  /** Seconds, an expression of n (--reboot-classical-timeout). */
  rebootClassicalTimeout?: string;
  force?: boolean;
  debug?: boolean;
}

const NODE = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9.-]+$' } as const;

export const REBOOT_REQUEST_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'nodes'],
  properties: {
    kind: { type: 'string', enum: [...REBOOT_KINDS, ...Object.keys(ALIASES)] },
    nodes: { type: 'array', minItems: 1, maxItems: 10_000, items: NODE },
    level: { type: 'string', enum: [...LEVELS] },
    environment: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._+-]+$' },
        user: { type: 'string', minLength: 1, maxLength: 64, pattern: '^\\w+$' },
        version: { type: 'integer', minimum: 1, maximum: 1_000_000 },
      },
    },
    partition: { type: 'integer', minimum: 1, maximum: 128 },
    keys: { type: 'string', minLength: 1, maxLength: 256 * 1024 },
    pxeProfile: { type: 'string', minLength: 1, maxLength: 16 * 1024 },
    checkDestructive: { type: 'boolean' },
    rebootClassicalTimeout: { type: 'string', minLength: 1, maxLength: 200 },
    force: { type: 'boolean' },
    debug: { type: 'boolean' },
  },
} as const;

/**
 * Cross-field rules the schema cannot say (reference §5): recorded_env needs -e and -p, set_pxe
 * needs -w; options that belong to another kind are refused rather than silently ignored.
 */
export function checkRebootRequest(r: RebootRequest): RebootRequest {
  const kind = parseRebootKind(r.kind);
  const missing = (what: string) =>
    new KaployError('KAPLOY_MISSING_OPTION', `the ${kind} reboot needs ${what}; nothing was done`);
  const conflict = (what: string, forKind: string) =>
    new KaployError('KAPLOY_CONFLICTING_OPTIONS', `${what} is only for the ${forKind} reboot, not ${kind}`);
  if (kind === 'recorded_env') {
    if (!r.environment) throw missing('an environment (-e NAME)');
    if (r.partition === undefined) throw missing('the partition it is installed on (-p N)');
  } else {
    if (r.environment) throw conflict('-e/--env-name', 'recorded_env');
    if (r.partition !== undefined) throw conflict('-p/--partition-number', 'recorded_env');
  }
  if (kind === 'set_pxe' && r.pxeProfile === undefined) throw missing('a PXE profile (-w FILE)');
  if (kind !== 'set_pxe' && r.pxeProfile !== undefined) throw conflict('-w/--set-pxe-profile', 'set_pxe');
  if (kind !== 'deploy_env' && r.keys !== undefined) throw conflict('-k/--key', 'deploy_env');
  return { ...r, kind };
}
