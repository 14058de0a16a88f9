import type { OperationOutcome } from '../../api/operation-status.js';
import type { StatsRow } from '../../stats/schema.js';

/** Per-node outcome of a reboot or power operation (a value, never an exception). */
export interface NodeOpOutcome {
  node: string;
  status: 'ok' | 'ko' | 'cancelled';
  /** Implementation name, as kastat3 shows it in step1: Simple, SetPXE, DeployEnv, RecordedEnv, On, Off, Status. */
  step: string;
  /** The micro-step where the node stopped (KO, cancelled) or the last one run. */
  micro?: string;
  reason?: string;
  /** kapower3 --status: what the status command answered. */
  output?: string;
  /** Escalations past the first level asked. */
  retries: number;
  timeoutSec: number;
  durationMs: number;
}

export function toApiOutcome(o: NodeOpOutcome): OperationOutcome {
  return {
    node: o.node,
    status: o.status,
    impl: o.step,
    ...(o.micro ? { micro: o.micro } : {}),
    ...(o.reason ? { reason: o.reason } : {}),
    ...(o.output !== undefined ? { output: o.output } : {}),
  };
}

/** One statistics row per node; reboot and power rows fill only step1 (reference §4). */
export function statsRows(
  outcomes: readonly NodeOpOutcome[],
  w: { wid: string; operation: 'reboot' | 'power'; user: string; startMs: number; env: string },
): StatsRow[] {
  return outcomes.map((o) => ({
    wid: w.wid,
    operation: w.operation,
    user: w.user,
    hostname: o.node,
    step1: o.step,
    step2: '',
    step3: '',
    timeout_step1: o.timeoutSec,
    timeout_step2: 0,
    timeout_step3: 0,
    retry_step1: o.retries,
    retry_step2: 0,
    retry_step3: 0,
    start: Math.floor(w.startMs / 1000),
    step1_duration: Math.round(o.durationMs / 1000),
    step2_duration: 0,
    step3_duration: 0,
    env: w.env,
    anonymous_env: false,
    md5: '',
    success: o.status === 'ok',
    error: o.status === 'ok' ? '' : `${o.step}${o.micro ? `-${o.micro}` : ''}: ${o.reason ?? o.status}`,
  }));
}
