import { EXIT, type ExitCode } from '../../cli/common/exit-codes.js';
import type { NodeOutcome } from './types.js';

/**
 * The exit code for a finished workflow. Nodes stopped at the breakpoint the user asked for count
 * as done (Kadeploy lists them with the OK nodes too). Any cancelled node means the run was
 * interrupted: CANCELLED. Otherwise 0 when every node is done, 1 when some are, 2 when none is
 * (also for an empty node list: nothing was deployed).
 */
export function exitCodeForOutcomes(outcomes: readonly NodeOutcome[]): ExitCode {
  if (outcomes.some((o) => o.status === 'cancelled')) return EXIT.CANCELLED;
  const done = outcomes.filter((o) => o.status === 'ok' || o.status === 'breakpoint').length;
  if (done === 0) return EXIT.ALL_FAILED;
  return done === outcomes.length ? EXIT.OK : EXIT.SOME_FAILED;
}
