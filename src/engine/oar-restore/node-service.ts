import type { RestoreConfig } from '../../common/hooks-config.js';
import { describeFailure, runCommand } from '../../common/run-command.js';
import type { StepOutcome } from './restore-plan.js';

/**
 * The reason goes into an OAR resource property; OAR 2.5.9 puts property values into its SQL
 * between quotes without escaping them (OAR::IO::set_resources_property), so only a plain
 * alphabet passes, and a bounded length.
 */
export function sanitizeReason(reason: string): string {
  const s = reason
    .replace(/[^A-Za-z0-9 ._:,/()+=@-]/g, '_')
    .replace(/\s+/g, ' ')
    .trim();
  return (s || 'restore failed').slice(0, 200);
}

/** `{node}` and `{reason}` filled in each word (an argument vector: no shell ever sees them). */
export function fillArgv(argv: readonly string[], vars: { node: string; reason?: string }): string[] {
  return argv.map((w) =>
    w.replaceAll('{node}', vars.node).replaceAll('{reason}', sanitizeReason(vars.reason ?? '')),
  );
}

/**
 * One command for several nodes: each word `{node}` is repeated once per node, together with the
 * option word just before it (`-h {node}` -> `-h A -h B`). Words embedding `{node}` in other text
 * are refused by the configuration unless the batch is 1 (then it is fillArgv).
 */
export function fillArgvNodes(argv: readonly string[], nodes: readonly string[]): string[] {
  if (nodes.length === 1) return fillArgv(argv, { node: nodes[0] as string });
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i] as string;
    const next = argv[i + 1];
    if (w.startsWith('-') && next === '{node}') {
      for (const n of nodes) out.push(w, n);
      i++;
    } else if (w === '{node}') out.push(...nodes);
    else out.push(w);
  }
  return out;
}

async function run(argv: string[], cfg: RestoreConfig, signal: AbortSignal): Promise<StepOutcome> {
  try {
    const r = await runCommand(argv, { timeoutMs: cfg.commandTimeoutMs, signal });
    return r.code === 0 ? { ok: true } : { ok: false, reason: `${argv[0]} ${describeFailure(r)}` };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}

/**
 * Nodes restored to production go back into scheduling, in one run
 * (`oarnodesetting -s Alive -h N1 -h N2 ...`; at most cfg.aliveBatch nodes: the caller's share).
 */
export function putBackInService(
  cfg: RestoreConfig,
  nodes: readonly string[],
  signal: AbortSignal,
): Promise<StepOutcome> {
  return run(fillArgvNodes(cfg.aliveCommand, nodes), cfg, signal);
}

/** Holds a node whose restore failed out of scheduling, with the reason; every command is tried. */
export async function holdOutOfService(
  cfg: RestoreConfig,
  node: string,
  reason: string,
  signal: AbortSignal,
): Promise<StepOutcome> {
  const failures: string[] = [];
  for (const argv of cfg.holdCommands) {
    const r = await run(fillArgv(argv, { node, reason }), cfg, signal);
    if (!r.ok) failures.push(r.reason);
  }
  return failures.length === 0 ? { ok: true } : { ok: false, reason: failures.join('; ') };
}
