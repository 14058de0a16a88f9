import { createRequire } from 'node:module';
import type { Ajv, ValidateFunction } from 'ajv';
import { KaployError, type KaployErrorCode } from '../../common/errors.js';
import type { AuthenticatedUser } from '../auth/authenticate.js';

/**
 * Kadeploy's request parameters: given in the query (strings, repeated keys as arrays) or in the
 * body (JSON or YAML), both merged, the body winning. `Set` parameters (force, debug, ...) are on
 * when present, whatever their value (Kadeploy's toggle), except an explicit `false`.
 */
export type Params = Record<string, unknown>;

export function mergedParams(query: unknown, body: unknown): Params {
  const q = query && typeof query === 'object' ? (query as Params) : {};
  if (body !== undefined && body !== null && (typeof body !== 'object' || Array.isArray(body)))
    throw new KaployError(
      'KAPLOY_OPTION',
      'invalid request: the body must be a hash (a JSON or YAML object)',
    );
  return { ...q, ...((body as Params | null | undefined) ?? {}) };
}

export function toggle(p: Params, key: string): boolean {
  return key in p && p[key] !== false && p[key] !== 'false';
}

/** An optional integer given as a number or a string of digits. */
export function optInt(p: Params, key: string): number | undefined {
  const v = p[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^\d{1,9}$/.test(v)) return Number(v);
  throw new KaployError('KAPLOY_OPTION', `invalid request: ${key} must be an integer`);
}

export function optString(p: Params, key: string, max = 4096): string | undefined {
  const v = p[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string' || v.length > max)
    throw new KaployError(
      'KAPLOY_OPTION',
      `invalid request: ${key} must be a string of at most ${max} characters`,
    );
  return v;
}

/** A list given as an array, or one value (a query with one `nodes=`). */
export function stringList(p: Params, key: string, max: number): string[] | undefined {
  const v = p[key];
  if (v === undefined) return undefined;
  const list = Array.isArray(v) ? v : [v];
  if (list.length > max || !list.every((x) => typeof x === 'string' && x.length <= 255))
    throw new KaployError('KAPLOY_OPTION', `invalid request: ${key} must be a list of at most ${max} names`);
  return list as string[];
}

/**
 * What every operation request (deployment, reboot, power) carries, checked alike: `user`, if given,
 * is the authenticated caller; `nodes` a non-empty list of at most `maxNodes` (the native request's
 * bound for that kind); `verbose_level` 0-5, 3 when not given.
 */
export function operationParams(
  caller: AuthenticatedUser,
  p: Params,
  maxNodes: number,
): { nodes: string[]; verbosity: number } {
  if (p.user !== undefined && p.user !== caller.name)
    throw new KaployError(
      'KAPLOY_AUTH',
      `Authentication failed: user ${String(p.user)} is not the authenticated user`,
    );
  const nodes = stringList(p, 'nodes', maxNodes);
  if (!nodes || nodes.length === 0)
    throw new KaployError('KAPLOY_NODE_LIST', 'Invalid node list: nodes is missing');
  const verbosity = optInt(p, 'verbose_level') ?? 3;
  if (verbosity < 0 || verbosity > 5)
    throw new KaployError('KAPLOY_OPTION', 'invalid request: verbose_level must be between 0 and 5');
  return { nodes, verbosity };
}

/** Refuses, with Kadeploy's code, what the listener understands but kaploy cannot do. */
export function refuseGiven(p: Params, keys: Record<string, readonly [KaployErrorCode, string]>): void {
  for (const [key, [code, why]] of Object.entries(keys))
    if (p[key] !== undefined && p[key] !== false && p[key] !== null)
      throw new KaployError(code, `${key}: ${why}`);
}

/** Refuses parameters of no Kadeploy 3.3 resource (a typo is not silently ignored). */
export function refuseUnknown(p: Params, known: readonly string[]): void {
  for (const key of Object.keys(p))
    if (!known.includes(key))
      throw new KaployError('KAPLOY_OPTION', `invalid request: unknown parameter '${key}'`);
}

const require = createRequire(import.meta.url);
let ajv: Ajv | undefined;
const compiled = new WeakMap<object, ValidateFunction>();

/**
 * Checks a translated request against the schema of the native route it stands for, so a value
 * the native API refuses is refused here with the same code (4) and the same wording.
 */
export function assertNative<T>(schema: object, body: T): T {
  if (!ajv) {
    const { Ajv: AjvClass } = require('ajv') as typeof import('ajv');
    ajv = new AjvClass({ allErrors: false, strict: false, coerceTypes: false });
  }
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  if (!validate(body)) {
    const e = validate.errors?.[0];
    throw new KaployError(
      'KAPLOY_OPTION',
      `invalid request: body${e?.instancePath ?? ''} ${e?.message ?? 'is invalid'}`,
    );
  }
  return body;
}

/** `rec[key]`, created by `make` when absent. */
export function entry<T>(rec: Record<string, T>, key: string, make: () => T): T {
  let v = rec[key];
  if (v === undefined) {
    v = make();
    rec[key] = v;
  }
  return v;
}
