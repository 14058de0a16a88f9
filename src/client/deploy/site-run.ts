import { writeFileSync } from 'node:fs';
import type { DeployRequest, EnvironmentRef } from '../../api/deploy-request.js';
import type { OperationStatus } from '../../api/operation-status.js';
import { errorMessage, KaployError } from '../../common/errors.js';
import { prepareDescription } from '../environments/environments.js';
import { type ApiClient, ServerSilentError } from '../http-client.js';
import { follow, type Io } from './follow.js';
import type { GridDescription } from './load-description.js';
import type { DeployRunOptions, RunEnvironment, SiteOutcome } from './run-options.js';
import { failedSite, siteNodeOutcome } from './site-failure.js';

/** What one site is asked to deploy: the description was read once for every site. */
export type SiteEnvironment =
  | Extract<RunEnvironment, { kind: 'recorded' }>
  | { kind: 'description'; description: GridDescription };

/**
 * One site's deployment (the only one without -M), its output going to `io` (prefixed with -M):
 * uploads, `POST /deployment` (or resume), then the log until the end. Never throws: whatever
 * goes wrong becomes the site's outcome, which the run throws (one site) or reports (-M).
 */
export async function runSite(
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

/** --dry-run: the engine checks everything and answers what it would do; nothing is touched. */
async function dryRun(client: ApiClient, body: DeployRequest, io: Io, signal: AbortSignal): Promise<void> {
  const plan = await client.request<{
    environment: string;
    description: string;
    nodes: string[];
    steps: string[];
  }>('POST', '/deployment', { body, query: { dry_run: true }, signal });
  io.out.write(`Dry run: deployment of ${plan.environment} on ${plan.nodes.length} node(s)\n`);
  io.out.write(plan.description.endsWith('\n') ? plan.description : `${plan.description}\n`);
  io.out.write(`Steps: ${plan.steps.join(' ')}\n`);
}

async function siteEnvironment(
  client: ApiClient,
  env: SiteEnvironment,
  signal: AbortSignal,
): Promise<EnvironmentRef> {
  if (env.kind === 'recorded') {
    const { kind: _k, ...ref } = env;
    return { kind: 'recorded', ...ref };
  }
  // -a FILE|URL: the description's local files are uploaded to this site; its http(s) files are
  // fetched and checked by this site's engine when the deployment starts (once: it caches them).
  const d = env.description;
  const source = await prepareDescription(client, { file: d.file, text: d.text, cwd: d.cwd, signal });
  return { kind: 'anonymous', ...source };
}

/** The deployment runs already: a file that cannot be written is a warning, not a reason to stop following it. */
function writeWid(file: string, wid: string, o: DeployRunOptions): void {
  try {
    writeFileSync(file, `${wid}\n`);
  } catch (e) {
    o.warn?.(`cannot write the workflow id ${wid} to ${file}: ${errorMessage(e)}`);
  }
}

/** A start request the engine stopped answering may have started the deployment: its nodes are lost, not unreachable. */
function stageOf(e: unknown): 'unreachable' | 'refused' | 'lost' {
  if (e instanceof ServerSilentError) return 'lost';
  return (e as { code?: unknown }).code === 'KAPLOY_CLIENT' ? 'unreachable' : 'refused';
}
