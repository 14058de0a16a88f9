import { KaployError } from '../common/errors.js';
import { evalTimeout } from '../engine/workflow/timeout-expr.js';
import type { Implementation, MacroStep } from '../engine/workflow/types.js';
import { parseForceSteps } from '../formats/force-steps.js';
import { type SimulationInput, type SimulationResult, simulate } from './simulate.js';

/** The what-if axes of --compare, each a way to change one input. */
const AXES: Record<string, { help: string; apply: (i: SimulationInput, v: string) => SimulationInput }> = {
  broadcast: {
    help: 'chain, tree or kascade (BroadcastEnv)',
    apply: (i, v) =>
      impl(
        i,
        'BroadcastEnv',
        pick(
          v,
          { chain: 'BroadcastEnvChain', tree: 'BroadcastEnvTree', kascade: 'BroadcastEnvKascade' },
          'broadcast',
        ),
      ),
  },
  boot: {
    help: 'kexec, classical or hardreboot (BootNewEnv)',
    apply: (i, v) =>
      impl(
        i,
        'BootNewEnv',
        pick(
          v,
          { kexec: 'BootNewEnvKexec', classical: 'BootNewEnvClassical', hardreboot: 'BootNewEnvHardReboot' },
          'boot',
        ),
      ),
  },
  'deploy-env': {
    help: 'kexec or untrusted (SetDeploymentEnv)',
    apply: (i, v) =>
      impl(
        i,
        'SetDeploymentEnv',
        pick(v, { kexec: 'SetDeploymentEnvKexec', untrusted: 'SetDeploymentEnvUntrusted' }, 'deploy-env'),
      ),
  },
  window: { help: 'windows.reboot sizes', apply: (i, v) => windows(i, 'reboot', v) },
  check: { help: 'windows.check sizes', apply: (i, v) => windows(i, 'check', v) },
  'reboot-timeout': {
    help: 'wait_reboot timeouts after a reboot (expressions of n; one per --compare)',
    apply: (i, v) => {
      evalTimeout(v, 1); // refused now rather than mid-comparison
      return { ...i, rebootTimeout: v };
    },
  },
  'kexec-timeout': {
    help: 'wait_reboot timeouts after a kexec (expressions of n; one per --compare)',
    apply: (i, v) => {
      evalTimeout(v, 1);
      return { ...i, kexecTimeout: v };
    },
  },
  steps: {
    help: 'whole workflows in --force-steps syntax (one per --compare)',
    apply: (i, v) => {
      parseForceSteps(v);
      return { ...i, forceSteps: v };
    },
  },
  seed: { help: 'seeds', apply: (i, v) => ({ ...i, seed: int(v, 'seed', 0, 2 ** 31 - 1) }) },
};
// Values of these may hold commas: one value per --compare.
const WHOLE = new Set(['reboot-timeout', 'kexec-timeout', 'steps']);
const MAX_VARIANTS = 64;

export function compareHelp(): string {
  return Object.entries(AXES)
    .map(([k, a]) => `${k}=${a.help}`)
    .join('; ');
}

function fail(msg: string): never {
  throw new KaployError('KAPLOY_OPTION', `--compare: ${msg}`, { key: 'compare' });
}
function pick(v: string, names: Record<string, Implementation>, axis: string): Implementation {
  const impl = names[v];
  if (!impl) fail(`${axis}=${v}: expected one of ${Object.keys(names).join(', ')}`);
  return impl;
}
function int(v: string, axis: string, min: number, max: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) fail(`${axis}=${v}: expected an integer from ${min} to ${max}`);
  return n;
}
function impl(i: SimulationInput, macro: MacroStep, to: Implementation): SimulationInput {
  return { ...i, implementations: { ...i.implementations, [macro]: to } };
}
function windows(i: SimulationInput, key: 'reboot' | 'check', v: string): SimulationInput {
  const size = int(v, key === 'reboot' ? 'window' : 'check', 1, 100_000);
  return { ...i, site: { ...i.site, windows: { ...i.site.windows, [key]: size } } };
}

export interface Variant {
  label: string;
  apply: (i: SimulationInput) => SimulationInput;
}

/** `--compare AXIS=V1,V2` (repeatable; values of one axis accumulate): the product of the axes. */
export function parseCompare(specs: readonly string[]): Variant[] {
  const byAxis = new Map<string, string[]>();
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const axis = eq < 0 ? spec : spec.slice(0, eq);
    if (!AXES[axis]) fail(`unknown axis '${axis}' (known: ${Object.keys(AXES).join(', ')})`);
    const text = spec.slice(eq + 1);
    const values = WHOLE.has(axis) ? [text] : text.split(',');
    if (eq < 0 || values.some((v) => v === '')) fail(`'${spec}': expected ${axis}=VALUE[,VALUE...]`);
    byAxis.set(axis, [...(byAxis.get(axis) ?? []), ...values]);
  }
  let variants: Variant[] = [{ label: '', apply: (i) => i }];
  for (const [axis, values] of byAxis) {
    const a = AXES[axis] as (typeof AXES)[string];
    variants = variants.flatMap((base) =>
      values.map((v) => ({
        label: `${base.label}${base.label ? ' ' : ''}${axis}=${v}`,
        apply: (i: SimulationInput) => a.apply(base.apply(i), v),
      })),
    );
    if (variants.length > MAX_VARIANTS) fail(`more than ${MAX_VARIANTS} variants`);
  }
  return variants;
}

/** Each variant simulated in turn on the same site, hardware and seed (the same draws). */
export async function compareVariants(
  input: SimulationInput,
  variants: readonly Variant[],
  signal?: AbortSignal,
): Promise<{ label: string; result: SimulationResult }[]> {
  // Every variant is checked before any runs: a typo in the last one fails at once.
  const inputs = variants.map((v) => ({ label: v.label, input: v.apply(input) }));
  const out: { label: string; result: SimulationResult }[] = [];
  for (const v of inputs) {
    signal?.throwIfAborted();
    out.push({ label: v.label, result: await simulate(v.input) });
  }
  return out;
}
