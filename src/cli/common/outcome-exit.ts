import { EXIT, type ExitCode } from './exit-codes.js';

/** Exit code of an operation from its per-node outcomes: 0 all OK, 1 some KO, 2 none OK. */
export function exitCodeForStatuses(statuses: readonly string[]): ExitCode {
  if (statuses.length === 0) return EXIT.OK;
  // A node stopped at the breakpoint the user asked for did what was asked, but the deployment is
  // not over: its own code (9), so a script does not go on as if the nodes ran the environment.
  const ok = statuses.filter((s) => s === 'ok' || s === 'breakpoint').length;
  if (ok === statuses.length) return statuses.includes('breakpoint') ? EXIT.BREAKPOINT : EXIT.OK;
  return ok === 0 ? EXIT.ALL_FAILED : EXIT.SOME_FAILED;
}
