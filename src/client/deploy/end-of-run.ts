import { requireSomeSite } from '../grid/grid-result.js';
import { runEndScript } from './end-script.js';
import type { Io } from './follow.js';
import { formatErrorLine } from './format-error.js';
import { appendNodeFiles } from './node-files.js';
import type { DeployRunOptions, RunResult, SiteOutcome } from './run-options.js';
import { renderSummary } from './summary.js';

/**
 * The end of the run, once over every site: the summary, -o/-n, -s; then what the run returns
 * or throws (one site's failure is the run's error, with -M only no site started is).
 */
export async function endOfRun(
  multi: boolean,
  sites: SiteOutcome[],
  o: DeployRunOptions,
  io: Io,
  waited: boolean,
): Promise<RunResult> {
  const one = multi ? undefined : sites[0];
  // One site that did not start: nothing to summarize, its error is the run's (3, 4 or 5).
  if (one?.failure && one.wid === undefined) throw one.failure.cause;
  // The one exit rule of every -M command: no site did anything -> the first site's error code.
  requireSomeSite(
    sites.map((s) => ({
      server: s.server,
      nodes: s.nodes,
      ...(s.wid !== undefined ? { wid: s.wid } : {}),
      ...(s.failure ? { failure: s.failure } : { value: s }),
    })),
    'started a deployment',
  );
  const started = true;
  const outcomes = sites.flatMap((s) => s.outcomes);
  if (waited) {
    io.out.write(renderSummary(outcomes));
    appendNodeFiles(o, outcomes);
    if (o.script) await runEndScript(o.script, io);
  }
  // One site whose engine went away mid-deployment: nodes were touched, so not "unreachable, nothing
  // started" (5). As with -M, its nodes are KO (Server-lost) in the summary and the -n file, and the
  // run exits as its outcomes say (2), the error line naming how to learn what became of them.
  if (one?.failure?.stage === 'lost') {
    io.err.write(
      formatErrorLine(one.failure.cause).replace(
        /\n$/,
        `; deployment ${one.wid} was running: its nodes are counted KO (kanodes3 -w ${one.wid} once the server answers)\n`,
      ),
    );
    return { sites, outcomes, started, waited };
  }
  // One site whose deployment failed as a whole: reported after its summary, with its own code.
  if (one?.failure) throw one.failure.cause;
  return { sites, outcomes, started, waited };
}
