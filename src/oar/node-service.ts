import type { RestoreConfig } from './hooks-config.js';
import type { StepOutcome } from './restore-plan.js';
import { describeFailure, runCommand } from './run-command.js';

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

async function run(argv: string[], cfg: RestoreConfig, signal: AbortSignal): Promise<StepOutcome> {
  try {
    const r = await runCommand(argv, { timeoutMs: cfg.commandTimeoutMs, signal });
    return r.code === 0 ? { ok: true } : { ok: false, reason: `${argv[0]} ${describeFailure(r)}` };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}

/** A node restored to production goes back into scheduling (`oarnodesetting -s Alive -h NODE`). */
export function putBackInService(
  cfg: RestoreConfig,
  node: string,
  signal: AbortSignal,
): Promise<StepOutcome> {
  return run(fillArgv(cfg.aliveCommand, { node }), cfg, signal);
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
