import pMap from 'p-map';
import { clientConfigPath, loadClientConfig } from '../client-config.js';
import { gridOutputs } from '../grid/grid-output.js';
import { gridServers } from '../grid/grid-servers.js';
import { gridSites } from '../grid/grid-sites.js';
import { createClient } from '../http-client.js';
import { runEndScript } from './end-script.js';
import type { Io } from './follow.js';
import { formatErrorLine } from './format-error.js';
import { loadDescription } from './load-description.js';
import { appendNodeFiles } from './node-files.js';
import { checkRunOptions, type DeployRunOptions, type RunResult, type SiteOutcome } from './run-options.js';
import { failedSite, noSiteStarted } from './site-failure.js';
import { directOutputs } from './site-output.js';
import { oneSite, type Sites } from './site-plan.js';
import { runSite, type SiteEnvironment } from './site-run.js';
import { renderSummary } from './summary.js';

/** Sites deploying at once; each site bounds its own nodes, so this only caps a runaway config. */
const SITE_CONCURRENCY = 16;

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
    outputs.start();
    const results = await pMap(
      plan.sites,
      async (s): Promise<SiteOutcome> => {
        const sio = outputs.open(s.name);
        try {
          const r = s.client
            ? await runSite(
                { name: s.name, client: s.client },
                s.nodes,
                env,
                o,
                sio,
                signal,
                outputs.onStatus(s.name),
              )
            : failedSite(s.name, s.nodes, 'unreachable', s.unreachable ?? `server ${s.name} unreachable`);
          if (multi && r.failure) sio.err.write(formatErrorLine(r.failure.cause));
          return r;
        } finally {
          await sio.close();
        }
      },
      // No signal: each site handles the abort itself (cancelling its deployment), and every
      // site must settle so its outcome is reported.
      { concurrency: SITE_CONCURRENCY },
    ).finally(() => outputs.stop());
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
  // One site that did not start, or whose engine went away: nothing to summarize, its error is the run's.
  if (one?.failure && (one.wid === undefined || one.failure.stage === 'lost')) throw one.failure.cause;
  const started = sites.some((s) => s.wid !== undefined || (o.dryRun && !s.failure));
  if (!started) throw noSiteStarted(sites);
  const outcomes = sites.flatMap((s) => s.outcomes);
  if (waited) {
    io.out.write(renderSummary(outcomes));
    appendNodeFiles(o, outcomes);
    if (o.script) await runEndScript(o.script, io);
  }
  // One site whose deployment failed as a whole: reported after its summary, with its own code.
  if (one?.failure) throw one.failure.cause;
  return { sites, outcomes, started, waited };
}
