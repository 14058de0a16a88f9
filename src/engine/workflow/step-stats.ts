import type { StatsRow } from '../../stats/schema.js';
import { MACRO_STEPS, type NodeOutcome } from './types.js';

export type StepStats = Pick<
  StatsRow,
  | 'step1'
  | 'step2'
  | 'step3'
  | 'timeout_step1'
  | 'timeout_step2'
  | 'timeout_step3'
  | 'retry_step1'
  | 'retry_step2'
  | 'retry_step3'
  | 'step1_duration'
  | 'step2_duration'
  | 'step3_duration'
  | 'success'
  | 'error'
>;

/**
 * The workflow part of a deploy statistics row (reference §4), from a node's outcome: per macro-step
 * the implementation used last, its timeout (s), the retries used in the macro-step (fallback
 * attempts included) and the time spent in it (s, rounded); macro-steps never reached stay ''/0.
 * Only `ok` is a success; a breakpoint is recorded as not successful with where it stopped.
 */
export function stepStats(o: NodeOutcome): StepStats {
  const rec = MACRO_STEPS.map((m) => o.steps[m]);
  const [r1, r2, r3] = rec;
  const secs = (ms: number | undefined) => Math.round((ms ?? 0) / 1000);
  const where = `${o.impl ?? o.macro ?? ''}-${o.micro ?? ''}`;
  const error =
    o.status === 'ko'
      ? `${where}: ${o.reason ?? 'unknown error'}`
      : o.status === 'cancelled'
        ? `Cancelled in ${where}${o.code === 'KAPLOY_PREEMPTED' ? `: ${o.reason}` : ''}`
        : o.status === 'breakpoint'
          ? `Breakpoint before ${where}`
          : '';
  return {
    step1: r1?.impl ?? '',
    step2: r2?.impl ?? '',
    step3: r3?.impl ?? '',
    timeout_step1: r1?.timeoutSec ?? 0,
    timeout_step2: r2?.timeoutSec ?? 0,
    timeout_step3: r3?.timeoutSec ?? 0,
    retry_step1: r1?.retries ?? 0,
    retry_step2: r2?.retries ?? 0,
    retry_step3: r3?.retries ?? 0,
    step1_duration: secs(r1?.durationMs),
    step2_duration: secs(r2?.durationMs),
    step3_duration: secs(r3?.durationMs),
    success: o.status === 'ok',
    error,
  };
}
