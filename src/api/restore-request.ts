import { KaployError } from '../common/errors.js';
import { isValidHostname } from '../formats/node-names.js';
import { isValidUserName } from '../formats/user-name.js';

/** What the epilogue hands the engine: restore production on these nodes after this job. */
export interface RestoreRequest {
  job: number;
  user: string;
  nodes: string[];
  /** Production environment to restore; empty = the engine's configured one. */
  production?: string;
}

/** Validates a restore request read back from the spool (a file anyone with access could edit). */
export function assertRestoreRequest(x: unknown, where: string): RestoreRequest {
  const fail = (what: string): never => {
    throw new KaployError('KAPLOY_FILE', `${where}: not a restore request: ${what}`, { file: where });
  };
  if (x === null || typeof x !== 'object' || Array.isArray(x)) return fail('expected a JSON object');
  const o = x as Record<string, unknown>;
  if (typeof o.job !== 'number' || !Number.isSafeInteger(o.job) || o.job < 1)
    fail('job is not a positive integer');
  if (typeof o.user !== 'string' || !isValidUserName(o.user)) fail('invalid user');
  if (
    !Array.isArray(o.nodes) ||
    o.nodes.length === 0 ||
    o.nodes.some((n) => typeof n !== 'string' || !isValidHostname(n))
  ) {
    fail('nodes is not a non-empty list of host names');
  }
  if (
    o.production !== undefined &&
    (typeof o.production !== 'string' || !/^([A-Za-z0-9][A-Za-z0-9._+-]{0,127})?$/.test(o.production))
  ) {
    fail('invalid production environment name');
  }
  return {
    job: o.job as number,
    user: o.user as string,
    nodes: o.nodes as string[],
    ...(typeof o.production === 'string' && o.production !== '' ? { production: o.production } : {}),
  };
}
