import type { OperationOutcome } from '../../api/operation-status.js';
import type { Io } from '../deploy/follow.js';
import { configuredSites, runDeployment } from '../deploy/run.js';
import type { DeployRunOptions } from '../deploy/run-options.js';
import type { Sites } from '../deploy/site-plan.js';

/** Every attempt's outcome of the nodes it deployed, and where the nodes stand at the end. */
export interface AttemptsResult {
  ok: string[];
  /** The nodes still KO after the last attempt, with the last attempt's reason. */
  ko: OperationOutcome[];
  attempts: number;
}

/**
 * Deploys `nodes`, then redeploys only the nodes still KO, up to `retries` more times. The nodes
 * already OK are never part of a retry, so they do not wait again for a reboot timeout that only
 * a failing node reaches. A site-wide failure (refused environment, unreachable engine) is thrown:
 * retrying it would fail the same way.
 */
export async function deployWithRetries(
  base: Omit<DeployRunOptions, 'nodes'>,
  nodes: readonly string[],
  retries: number,
  io: Io,
  signal: AbortSignal,
  sites: Sites = configuredSites,
): Promise<AttemptsResult> {
  const ok: string[] = [];
  let pending = [...nodes];
  let ko: OperationOutcome[] = [];
  let attempts = 0;
  while (pending.length > 0 && attempts <= retries && !signal.aborted) {
    attempts += 1;
    io.err.write(
      `kaploy run: deployment ${attempts}/${retries + 1} of ${pending.length} node(s)${attempts > 1 ? ' (the KO nodes of the previous one)' : ''}\n`,
    );
    const r = await runDeployment({ ...base, nodes: pending }, io, signal, sites);
    ok.push(...r.outcomes.filter((x) => x.status === 'ok').map((x) => x.node));
    ko = r.outcomes.filter((x) => x.status !== 'ok');
    // A cancelled node is the user's Ctrl-C: nothing to retry.
    if (ko.some((x) => x.status === 'cancelled')) break;
    pending = ko.map((x) => x.node);
  }
  return { ok, ko, attempts };
}
