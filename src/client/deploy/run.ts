import { clientConfigPath, loadClientConfig } from '../client-config.js';
import { fanOut } from '../grid/fan-out.js';
import { gridOutputs } from '../grid/grid-output.js';
import { requireSomeSite } from '../grid/grid-result.js';
import { gridServers } from '../grid/grid-servers.js';
import { gridSites } from '../grid/grid-sites.js';
import { createClient } from '../http-client.js';
import { runEndScript } from './end-script.js';
import type { Io } from './follow.js';
import { formatErrorLine } from './format-error.js';
import { loadDescription } from './load-description.js';
import { appendNodeFiles } from './node-files.js';
import { checkRunOptions, type DeployRunOptions, type RunResult, type SiteOutcome } from './run-options.js';
import { failedSite } from './site-failure.js';
import { directOutputs } from './site-output.js';
import { oneSite, type Sites } from './site-plan.js';
import { runSite, type SiteEnvironment } from './site-run.js';
import { renderSummary } from './summary.js';

/** The sites of the client configuration: `-S`'s (or the default) server, or with -M every server. */
export const configuredSites: Sites = (o, signal) =>
  o.multiServer
    ? gridSites(gridServers(loadClientConfig(clientConfigPath())))(o, signal)
    : oneSite(createClient({ server: o.server }))(o, signal);

/**
 * kadeploy3's run, on one site or (-M) on many: checks the options, reads the environment once,
 * runs one deployment per site concurrently, then once over every site: the summary, -o/-n, -s.
 * With -M a site that fails makes its nodes KO and the others keep going; on one site its failure
 * is the run's error. Throws only for what stops the whole run (bad options, no site started).
 */
export async function runDeployment(
  o: DeployRunOptions,
  io: Io,
  signal: AbortSignal,
  sites: Sites = configuredSites,
): Promise<RunResult> {
  checkRunOptions(o);
  const env = await environmentOnce(o, signal);
  const plan = await sites(o, signal);
  try {
    // -M: site-prefixed output, each site's failure reported and merged; one site: its failure thrown.
    const multi = o.multiServer === true;
    const waited = o.wait && !o.dryRun;
    const outputs = multi
      ? gridOutputs(
          io,
          plan.sites.map((s) => s.name),
          waited,
        )
      : directOutputs(io);
    // The one grid fan-out (also kareboot3/kapower3/kanodes3/kastat3/kaenv3 -M): runSite never
    // throws, so a site's failure comes back in its outcome; a site without a client (dropped by
    // the probe) fails in the fan-out as unreachable, its error line printed there.
    const runs = await fanOut(plan, { io, signal, outputs }, async (site) => {
      const r = await runSite(
        { name: site.name, client: site.client },
        site.nodes,
        env,
        o,
        site.io,
        site.signal,
        site.onStatus,
      );
      if (multi && r.failure) site.io.err.write(formatErrorLine(r.failure.cause));
      return r;
    });
    const results = runs.map(
      (r): SiteOutcome =>
        r.value ??
        failedSite(
          r.server,
          r.nodes,
          r.failure?.stage ?? 'unreachable',
          r.failure?.cause ?? `server ${r.server} unreachable`,
        ),
    );
    return await merge(multi, results, o, io, waited);
  } finally {
    await plan.close();
  }
}

/** `-a FILE|URL` is read and parsed once, here, so its mistakes and warnings are reported once. */
async function environmentOnce(o: DeployRunOptions, signal: AbortSignal): Promise<SiteEnvironment> {
  if (o.environment.kind === 'recorded') return o.environment;
  const description = await loadDescription(o.environment.file, o.environment.cwd, signal);
  for (const w of description.warnings) o.warn?.(w);
  return { kind: 'description', description };
}

async function merge(
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
