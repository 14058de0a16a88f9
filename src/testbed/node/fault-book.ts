import { KaployError } from '../../common/errors.js';
import type { Fault } from './types.js';

/** What may trigger a fault: a boot (after a power-on or a reboot, maybe by a command) or a command. */
export type FaultTrigger =
  | { event: 'boot'; cause: 'power_on' | 'reboot'; command?: string }
  | { event: 'exec'; command: string };

const KINDS = new Set<Fault['kind']>([
  'no_reboot',
  'hang',
  'drop_connection',
  'slow_boot',
  'slow_disk',
  'corrupt_disk',
  'power_loss',
]);
/** Kinds that, without `when`, fire at boots rather than on commands. */
const BOOT_KINDS: Partial<Record<Fault['kind'], 'boot' | 'reboot'>> = {
  no_reboot: 'reboot',
  slow_boot: 'boot',
};

/** Validates a fault where it enters (the BMC-like API passes user JSON through). */
function validateFault(f: unknown): Fault {
  const bad = (why: string): never => {
    throw new KaployError('KAPLOY_OPTION', `invalid fault: ${why}`);
  };
  if (typeof f !== 'object' || f === null) return bad('expected an object');
  const o = f as Record<string, unknown>;
  if (typeof o.kind !== 'string' || !KINDS.has(o.kind as Fault['kind']))
    return bad(`unknown kind ${JSON.stringify(o.kind)} (expected one of ${[...KINDS].join(', ')})`);
  if (o.when !== undefined) {
    if (typeof o.when !== 'string' || o.when.length === 0 || o.when.length > 200)
      return bad('`when` must be a non-empty string of at most 200 characters');
    if (o.when !== 'boot' && o.when !== 'reboot') {
      try {
        new RegExp(o.when);
      } catch (e) {
        return bad(
          `\`when\` is neither 'boot', 'reboot' nor a valid regular expression: ${(e as Error).message}`,
        );
      }
    }
  }
  if (o.times !== undefined && (!Number.isInteger(o.times) || (o.times as number) < 1))
    return bad('`times` must be a positive integer');
  const posNum = (k: string, optional: boolean): void => {
    const v = o[k];
    if (v === undefined && optional) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) bad(`\`${k}\` must be a non-negative number`);
  };
  if (o.kind === 'slow_boot') posNum('extraMs', false);
  if (o.kind === 'drop_connection') posNum('afterBytes', true);
  if (o.kind === 'slow_disk') {
    posNum('bytesPerSec', false);
    if (o.bytesPerSec === 0) bad('`bytesPerSec` must be positive');
  }
  return structuredClone(o) as Fault;
}

function matches(f: Fault, t: FaultTrigger): boolean {
  const when = f.when ?? BOOT_KINDS[f.kind];
  if (t.event === 'boot') {
    if (when === 'boot') return true;
    if (when === 'reboot') return t.cause === 'reboot';
    return when !== undefined && t.command !== undefined && new RegExp(when).test(t.command);
  }
  if (when === 'boot' || when === 'reboot') return false;
  return when === undefined || new RegExp(when).test(t.command);
}

/** The faults injected on one node; `fire` consumes one use of the first matching fault. */
export class FaultBook {
  private faults: Fault[] = [];

  add(f: Fault): void {
    this.faults.push(validateFault(f));
  }

  clear(): void {
    this.faults = [];
  }

  list(): Fault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  fire<K extends Fault['kind']>(kind: K, t: FaultTrigger): Extract<Fault, { kind: K }> | undefined {
    const i = this.faults.findIndex((f) => f.kind === kind && matches(f, t));
    if (i < 0) return undefined;
    const f = this.faults[i] as Extract<Fault, { kind: K }>;
    if (f.times !== undefined) {
      if (f.times <= 1) this.faults.splice(i, 1);
      else this.faults[i] = { ...f, times: f.times - 1 };
    }
    return f;
  }
}
