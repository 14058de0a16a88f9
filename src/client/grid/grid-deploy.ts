import { finished } from 'node:stream/promises';
import pMap from 'p-map';
import { APP_CODES, KaployError, type KaployErrorCode } from '../../common/errors.js';
import { type Io, renderSummary } from '../deploy/kadeploy.js';
import { assignNodes } from './assign-nodes.js';
import { discoverServers, type LiveServer } from './discover-servers.js';
import type { GridDeployOptions, GridResult, SiteEnvironment, SiteOutcome } from './grid-options.js';
import { GridProgress } from './grid-progress.js';
import type { GridServer } from './grid-servers.js';
import { loadDescription } from './load-description.js';
import { appendNodeFiles } from './node-files.js';
import { runEndScript } from './run-script.js';
import { prefixedLines, serverPrefix } from './server-prefix.js';
import { deploySite } from './site-deploy.js';
import { failedSite } from './site-failure.js';

/** Sites deploying at once; each site bounds its own nodes, so this only caps a runaway config. */
export const GRID_SITE_CONCURRENCY = 16;

/**
 * `kadeploy3 -M`: finds which configured server serves each node, runs one deployment per site
 * concurrently with the same options, and merges: site-prefixed log, one summary, -o/-n over all
 * sites, -s once. A site that fails makes its nodes KO; the others keep going. Throws only for
 * what stops the whole run before anything started (bad options, nodes no server claims, no
 * site able to start).
 */
export async function gridDeploy(
  servers: readonly GridServer[],
  o: GridDeployOptions,
  io: Io,
  signal: AbortSignal,
): Promise<GridResult> {
  checkOptions(o);
  const env = await siteEnvironment(o, signal);
  const { live, dropped } = await discoverServers(servers, signal);
  try {
    for (const d of dropped) o.warn?.(`server ${d.name} dropped: ${d.reason}`);
    const plan = assignNodes(
      o.nodes,
      live,
      dropped.map((d) => d.name),
    );
    if (plan.leftovers.length > 0) {
      // Kadeploy's wording, kept for scripts that grep it.
      throw new KaployError(
        'KAPLOY_NODE_LIST',
        `The nodes ${plan.leftovers.join(', ')} does not belongs to any server`,
      );
    }
    const byName = new Map<string, LiveServer>(live.map((l) => [l.name, l]));
    const reasons = new Map(dropped.map((d) => [d.name, d.reason]));
    const jobs = [
      ...plan.deploy.map((p) => ({ ...p, live: byName.get(p.server) })),
      ...plan.unreachable.map((p) => ({ ...p, live: undefined })),
    ];
    // On a terminal, one progress line over every site (the sites' own output is not a terminal).
    const progress =
      io.err.isTTY === true && o.wait && !o.dryRun
        ? new GridProgress(
            io.err,
            jobs.map((j) => j.server),
          )
        : undefined;
    progress?.start();
    const sites = await pMap(
      jobs,
      async (j): Promise<SiteOutcome> => {
        const sio = siteIo(io, j.server, progress);
        try {
          if (!j.live) {
            const reason = `server ${j.server} unreachable: ${reasons.get(j.server) ?? 'dropped'}`;
            sio.err.write(`error: ${reason}\n`);
            return failedSite(j.server, j.nodes, 'unreachable', reason);
          }
          return await deploySite(j.live, j.nodes, env, o, sio, signal, (st) =>
            progress?.update(j.server, st),
          );
        } finally {
          sio.out.end();
          sio.err.end();
          await Promise.all([finished(sio.out), finished(sio.err)]);
        }
      },
      // No signal: each site handles the abort itself (cancelling its deployment), and every
      // site must settle so its outcome is reported.
      { concurrency: GRID_SITE_CONCURRENCY },
    ).finally(() => progress?.stop());
    const outcomes = sites.flatMap((s) => s.outcomes);
    const started = sites.some((s) => s.wid !== undefined || (o.dryRun && !s.failure));
    if (!started) throw noSiteStarted(sites);
    if (o.wait && !o.dryRun) {
      io.out.write(renderSummary(outcomes));
      appendNodeFiles(o, outcomes);
      if (o.script) await runEndScript(o.script, io);
    }
    return { sites, outcomes, started };
  } finally {
    await Promise.all(live.map((l) => l.client.close()));
  }
}

async function siteEnvironment(o: GridDeployOptions, signal: AbortSignal): Promise<SiteEnvironment> {
  if (o.environment.kind === 'recorded') return o.environment;
  const description = await loadDescription(o.environment.file, o.environment.cwd, signal);
  for (const w of description.warnings) o.warn?.(w);
  return { kind: 'description', description };
}

function checkOptions(o: GridDeployOptions): void {
  if (o.outputOk && o.outputKo && o.outputOk === o.outputKo) {
    throw new KaployError(
      'KAPLOY_CONFLICTING_OPTIONS',
      '-o/--output-ok-nodes and -n/--output-ko-nodes must name different files',
    );
  }
  if (!o.wait && (o.outputOk || o.outputKo || o.script)) {
    throw new KaployError(
      'KAPLOY_CONFLICTING_OPTIONS',
      '-o/-n/-s cannot be used with --no-wait (the result is not known when kadeploy3 returns)',
    );
  }
  if (o.nodes.length === 0)
    throw new KaployError('KAPLOY_NODE_LIST', 'no node given: use -m NODE or -f FILE');
}

/**
 * Each site's output, prefixed with its name, line by line, onto the shared streams; the progress
 * line (if any) is wiped before each line.
 */
function siteIo(io: Io, server: string, progress: GridProgress | undefined) {
  const prefix = serverPrefix(server);
  const via = (s: NodeJS.WritableStream) =>
    progress
      ? {
          write: (text: string) => {
            progress.beforeLine();
            return s.write(text);
          },
        }
      : s;
  return { out: prefixedLines(via(io.out), prefix), err: prefixedLines(via(io.err), prefix) };
}

/** Every site failed before starting: the run is an error, with the first site's code (exit 4/5/...). */
function noSiteStarted(sites: readonly SiteOutcome[]): KaployError {
  const first = sites.find((s) => s.failure)?.failure;
  const code: KaployErrorCode =
    first && first.code in APP_CODES ? (first.code as KaployErrorCode) : 'KAPLOY_CLIENT';
  const detail = sites.map((s) => `${s.server}: ${s.failure?.message ?? 'not started'}`).join('; ');
  return new KaployError(code, `no site started a deployment (${detail})`);
}
