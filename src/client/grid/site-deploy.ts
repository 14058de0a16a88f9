import type { DeployRequest, EnvironmentRef } from '../../api/deploy-request.js';
import type { OperationStatus } from '../../api/operation-status.js';
import { follow, type Io, runKadeploy } from '../deploy/kadeploy.js';
import { prepareDescription } from '../environments/environments.js';
import type { ApiClient } from '../http-client.js';
import { formatErrorLine } from './format-error.js';
import type { GridDeployOptions, SiteEnvironment, SiteOutcome } from './grid-options.js';
import { failedSite, siteNodeOutcome } from './site-failure.js';

/**
 * One site's deployment, with the grid's options, its output already prefixed by `io`. Never
 * throws: whatever goes wrong on this site becomes its outcome, so the other sites keep going.
 */
export async function deploySite(
  server: { name: string; client: ApiClient },
  nodes: readonly string[],
  env: SiteEnvironment,
  o: GridDeployOptions,
  io: Io,
  signal: AbortSignal,
  onStatus?: (st: OperationStatus) => void,
): Promise<SiteOutcome> {
  const { name, client } = server;
  if (signal.aborted) return failedSite(name, nodes, 'cancelled', signal.reason);
  let environment: EnvironmentRef;
  try {
    environment = await siteEnvironment(client, env, signal);
    if (o.dryRun) {
      await runKadeploy(
        client,
        {
          nodes: [...nodes],
          environment,
          ...(o.keys ? { keys: o.keys } : {}),
          request: o.request,
          verbose: o.verbose,
          wait: true,
          dryRun: true,
        },
        io,
        signal,
      );
      return { server: name, nodes: [...nodes], outcomes: [] };
    }
  } catch (e) {
    io.err.write(formatErrorLine(e));
    return failedSite(name, nodes, signal.aborted ? 'cancelled' : stageOf(e), e);
  }
  const body: DeployRequest = {
    ...o.request,
    nodes: [...nodes],
    environment,
    ...(o.keys ? { keys: o.keys.text } : {}),
  };
  if (o.keys && o.verbose >= 3) io.out.write(`Grab the key file ${o.keys.file}\n`);
  let wid: string;
  try {
    // Without the signal: a request aborted in flight could leave a deployment running on the
    // site that nobody follows. Once it answers, follow() sees the abort and cancels it.
    ({ wid } = await client.request<{ wid: string }>('POST', '/deployment', { body }));
  } catch (e) {
    io.err.write(formatErrorLine(e));
    return failedSite(name, nodes, stageOf(e), e);
  }
  if (!o.wait) {
    io.out.write(`${wid}\n`);
    return { server: name, nodes: [...nodes], wid, outcomes: [] };
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
    if (status.error) io.err.write(formatErrorLine(status.error));
    return {
      server: name,
      nodes: [...nodes],
      wid,
      ...(status.error ? { failure: { stage: 'refused' as const, ...status.error } } : {}),
      outcomes,
    };
  } catch (e) {
    // The engine went away while deploying: the nodes' state is unknown, so they are KO.
    io.err.write(formatErrorLine(e));
    return failedSite(name, nodes, 'lost', e, wid);
  }
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

function stageOf(e: unknown): 'unreachable' | 'refused' {
  return (e as { code?: unknown }).code === 'KAPLOY_CLIENT' ? 'unreachable' : 'refused';
}
