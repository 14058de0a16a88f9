import { KaployError } from '../../common/errors.js';
import type { Fault } from '../node/index.js';

export const FAULT_KINDS = [
  'no_reboot',
  'hang',
  'drop_connection',
  'slow_boot',
  'slow_disk',
  'corrupt_disk',
  'power_loss',
] as const;

const bad = (msg: string): never => {
  throw new KaployError('KAPLOY_OPTION', `invalid fault: ${msg}`);
};

function optInt(o: Record<string, unknown>, k: string, min: number): number | undefined {
  const v = o[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) bad(`${k} must be an integer >= ${min}`);
  return v as number;
}

function reqInt(o: Record<string, unknown>, k: string, min: number, kind: string): number {
  const v = optInt(o, k, min);
  if (v === undefined) bad(`${kind} needs ${k}`);
  return v as number;
}

/**
 * Validates a fault arriving from the control API or the command line. `when` is 'boot',
 * 'reboot' or a regular expression matched against a command line: it must compile.
 */
export function parseFault(v: unknown): Fault {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return bad('expected a JSON object');
  const o = v as Record<string, unknown>;
  const known = new Set(['kind', 'when', 'times', 'extraMs', 'bytesPerSec', 'afterBytes']);
  for (const k of Object.keys(o)) if (!known.has(k)) bad(`unknown field '${k}'`);
  const kind = o.kind;
  if (typeof kind !== 'string' || !(FAULT_KINDS as readonly string[]).includes(kind)) {
    return bad(`kind must be one of ${FAULT_KINDS.join(', ')}`);
  }
  const common: { when?: string; times?: number } = {};
  if (o.when !== undefined) {
    if (typeof o.when !== 'string' || o.when.length === 0 || o.when.length > 200)
      bad('when must be a non-empty string');
    try {
      new RegExp(o.when as string);
    } catch {
      bad(`when '${o.when}' is not a valid regular expression`);
    }
    common.when = o.when as string;
  }
  const times = optInt(o, 'times', 1);
  if (times !== undefined) common.times = times;
  const onlyFor = (k: string, kinds: string[]) => {
    if (o[k] !== undefined && !kinds.includes(kind)) bad(`${k} does not apply to ${kind}`);
  };
  onlyFor('extraMs', ['slow_boot']);
  onlyFor('bytesPerSec', ['slow_disk']);
  onlyFor('afterBytes', ['drop_connection']);
  switch (kind) {
    case 'slow_boot':
      return { ...common, kind, extraMs: reqInt(o, 'extraMs', 0, kind) };
    case 'slow_disk':
      return { ...common, kind, bytesPerSec: reqInt(o, 'bytesPerSec', 1, kind) };
    case 'drop_connection': {
      const afterBytes = optInt(o, 'afterBytes', 0);
      return { ...common, kind, ...(afterBytes === undefined ? {} : { afterBytes }) };
    }
    default:
      return { ...common, kind: kind as 'no_reboot' | 'hang' | 'corrupt_disk' | 'power_loss' };
  }
}
