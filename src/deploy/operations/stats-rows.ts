import type { StatsRow } from '../../stats/schema.js';
import { MACRO_STEPS, type NodeOutcome } from '../workflow/types.js';

/**
 * One statistics row per node from its workflow outcome (Kadeploy's kastat fields): the
 * implementation, timeout, retries and duration of each macro-step, the start, the environment
 * and its image md5, success and the error (`Impl-micro: reason`). Written for every outcome,
 * including failed and cancelled ones.
 */
export function statsRowsFromOutcomes(
  outcomes: readonly NodeOutcome[],
  w: { wid: string; user: string; startMs: number; env: string; anonymous: boolean; md5: string },
): StatsRow[] {
  return outcomes.map((o) => {
    const step = (i: 0 | 1 | 2) => {
      const macro = MACRO_STEPS[i];
      return macro ? o.steps[macro] : undefined;
    };
    const s1 = step(0);
    const s2 = step(1);
    const s3 = step(2);
    const sec = (ms: number | undefined) => Math.round((ms ?? 0) / 1000);
    return {
      wid: w.wid,
      operation: 'deploy',
      user: w.user,
      hostname: o.node,
      step1: s1?.impl ?? '',
      step2: s2?.impl ?? '',
      step3: s3?.impl ?? '',
      timeout_step1: s1?.timeoutSec ?? 0,
      timeout_step2: s2?.timeoutSec ?? 0,
      timeout_step3: s3?.timeoutSec ?? 0,
      retry_step1: s1?.retries ?? 0,
      retry_step2: s2?.retries ?? 0,
      retry_step3: s3?.retries ?? 0,
      start: Math.floor(w.startMs / 1000),
      step1_duration: sec(s1?.durationMs),
      step2_duration: sec(s2?.durationMs),
      step3_duration: sec(s3?.durationMs),
      env: w.env,
      anonymous_env: w.anonymous,
      md5: w.md5,
      success: o.status === 'ok',
      error: o.status === 'ok' ? '' : outcomeError(o),
    };
  });
}

export function outcomeError(o: NodeOutcome): string {
  const where = o.impl && o.micro ? `${o.impl}-${o.micro}: ` : '';
  const why = o.reason ?? (o.status === 'breakpoint' ? 'stopped at the breakpoint' : o.status);
  return `${where}${why}`;
}
