import { kadeployExitCodes } from '../../client/terminal-settings.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { exitCodeForStatuses } from './outcome-exit.js';

/**
 * The exit code of kadeploy3, kareboot3 and kapower3 once their operation ran: kaploy's 0/1/2 from
 * the nodes' outcomes, or with `exit_codes: kadeploy` Kadeploy's 0 whatever they are (tools that
 * read 0 as "ran" and the ok/ko files for the rest). Errors before or around the run keep their codes.
 */
export function nodeOpExitCode(statuses: readonly string[], env: NodeJS.ProcessEnv = process.env): ExitCode {
  const code = exitCodeForStatuses(statuses);
  const ran = code === EXIT.SOME_FAILED || code === EXIT.ALL_FAILED || code === EXIT.BREAKPOINT;
  return ran && kadeployExitCodes(env) ? EXIT.OK : code;
}
