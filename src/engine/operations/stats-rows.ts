import type { StatsRow } from '../../stats/schema.js';
import { stepStats } from '../workflow/step-stats.js';
import type { NodeOutcome } from '../workflow/types.js';

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
  return outcomes.map((o) => ({
    wid: w.wid,
    operation: 'deploy',
    user: w.user,
    hostname: o.node,
    start: Math.floor(w.startMs / 1000),
    env: w.env,
    anonymous_env: w.anonymous,
    md5: w.md5,
    ...stepStats(o),
  }));
}
