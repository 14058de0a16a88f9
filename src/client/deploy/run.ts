import type { DeployRequest } from '../../api/deploy-request.js';
import type { OperationStatus } from '../../api/operation-status.js';
import { KaployError } from '../../common/errors.js';
import { clientConfigPath, loadClientConfig } from '../client-config.js';
import { fanOut } from '../grid/fan-out.js';
import { gridOutputs } from '../grid/grid-output.js';
import { gridServers } from '../grid/grid-servers.js';
import { gridSites } from '../grid/grid-sites.js';
import { type ApiClient, createClient } from '../http-client.js';
import { endOfRun } from './end-of-run.js';
import { follow, type Io } from './follow.js';
import { formatErrorLine } from './format-error.js';
import { type KadeployArgs, keysFrom, runOptionsOf } from './kadeploy-args.js';
import { selectNodes } from './node-selection.js';
import { checkRunOptions, type DeployRunOptions, type RunResult, type SiteOutcome } from './run-options.js';
import { environmentOnce, type SiteEnvironment, siteEnvironment } from './site-environment.js';
import { failedSite, siteNodeOutcome } from './site-failure.js';
import { directOutputs } from './site-output.js';
import { oneSite, type Sites } from './site-plan.js';
import { dryRun, stageOf, writeWid } from './site-request.js';

// kadeploy3's spine on the client, in one file: the command line (runKadeploy), the run over the
// sites (runDeployment) and one site's deployment (runSite) up to `POST /deployment`. Option
// mapping, the environment read, following and the end of the run are leaves beside it.

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
    return await endOfRun(multi, results, o, io, waited);
  } finally {
    await plan.close();
  }
}

/**
 * kadeploy3 as a library: from the parsed command line to the run (runDeployment), one site or
 * -M alike. The command file only parses flags and maps the result to an exit code.
 */
export async function runKadeploy(
  a: KadeployArgs,
  io: Io,
  signal: AbortSignal,
  deps: { readStdin?: () => string; cwd?: string; sites?: Sites } = {},
): Promise<RunResult> {
  if (!a.resume && !a.envName === !a.envFile) {
    throw new KaployError(
      'KAPLOY_MISSING_OPTION',
      'give exactly one of -e/--env-name NAME or -a/--env-file FILE',
    );
  }
  const say = (m: string) => io.err.write(`kadeploy3: ${m}\n`);
  // --resume needs neither nodes nor environment: the server has them from the stopped deployment.
  const nodes = a.resume
    ? []
    : await selectNodes(a.machine, a.file, {
        warn: say,
        signal,
        ...(deps.readStdin ? { readStdin: deps.readStdin } : {}),
      });
  const keys = a.key ? await keysFrom(a.key, signal) : undefined;
  const run = runOptionsOf(a, nodes, keys, deps.cwd ?? process.cwd(), say);
  return runDeployment(run, io, signal, deps.sites ?? configuredSites);
}

/**
 * One site's deployment (the only one without -M), its output going to `io` (prefixed with -M):
 * uploads, `POST /deployment` (or resume), then the log until the end. Never throws: whatever
 * goes wrong becomes the site's outcome, which the run throws (one site) or reports (-M).
 */
async function runSite(
  server: { name: string; client: ApiClient },
  nodes: readonly string[],
  env: SiteEnvironment,
  o: DeployRunOptions,
  io: Io,
  signal: AbortSignal,
  onStatus?: (st: OperationStatus) => void,
): Promise<SiteOutcome> {
  const { name, client } = server;
  const done = (x: Omit<SiteOutcome, 'server' | 'nodes'>): SiteOutcome => ({
    server: name,
    nodes: [...nodes],
    ...x,
  });
  if (signal.aborted) return failedSite(name, nodes, 'cancelled', signal.reason);
  let body: DeployRequest | undefined;
  try {
    // --resume: the engine has the nodes and the environment of the stopped deployment.
    if (!o.resume) {
      body = {
        ...o.request,
        nodes: [...nodes],
        environment: await siteEnvironment(client, env, signal),
        ...(o.keys ? { keys: o.keys.text } : {}),
      };
    }
    if (o.dryRun && body) {
      // checkRunOptions refuses --dry-run with --resume: there is always a body here.
      await dryRun(client, body, io, signal);
      return done({ outcomes: [] });
    }
  } catch (e) {
    return failedSite(name, nodes, signal.aborted ? 'cancelled' : stageOf(e), e);
  }
  if (o.keys && o.verbose >= 3) io.out.write(`Grab the key file ${o.keys.file}\n`);
  let wid: string;
  try {
    // Without the signal: a request aborted in flight could leave a deployment running on the
    // site that nobody follows. Once it answers, follow() sees the abort and cancels it.
    ({ wid } = o.resume
      ? await client.request<{ wid: string }>('POST', `/deployment/${encodeURIComponent(o.resume)}/resume`)
      : await client.request<{ wid: string }>('POST', '/deployment', { body }));
  } catch (e) {
    return failedSite(name, nodes, stageOf(e), e);
  }
  if (o.writeWorkflowId) writeWid(o.writeWorkflowId, wid, o);
  if (!o.wait) {
    io.out.write(`${wid}\n`);
    return done({ wid, outcomes: [] });
  }
  try {
    const status = await follow(
      client,
      wid,
      {
        verbose: o.verbose,
        ...(o.pollIntervalMs ? { pollIntervalMs: o.pollIntervalMs } : {}),
        ...(onStatus ? { onStatus } : {}),
      },
      io,
      signal,
    );
    const outcomes = status.outcomes ?? [];
    // A node the engine reports nothing for (the operation failed as a whole) is KO all the same.
    const reported = new Set(outcomes.map((x) => x.node));
    const reason = status.error?.message ?? `no outcome reported by server ${name}`;
    for (const n of nodes) if (!reported.has(n)) outcomes.push(siteNodeOutcome(n, 'refused', reason));
    const error = status.error;
    return done({
      wid,
      ...(error
        ? {
            failure: {
              stage: 'refused',
              ...error,
              cause: new KaployError(error.code as never, error.message),
            },
          }
        : {}),
      outcomes,
    });
  } catch (e) {
    // The engine went away while deploying: the nodes' state is unknown, so they are KO.
    return failedSite(name, nodes, 'lost', e, wid);
  }
}
