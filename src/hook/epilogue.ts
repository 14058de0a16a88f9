import type { RestoreRequest } from '../api/restore-request.js';
import { errorMessage, isKaployError } from '../common/errors.js';
import { retryWithin } from './deadline.js';
import { recordFailure } from './deliver-spool.js';
import type { HookDeps } from './hook-deps.js';
import { isRetryableEngineError } from './hook-engine.js';
import { decideJob, type NodeHookArgs } from './job-source.js';
import { endReason, type OarJob } from './oar-job.js';
import { setNodesAbsent } from './oarnodesetting.js';
import { deliverPending } from './prologue.js';
import { markRejected, removeSpooled, type SpoolEntry, spoolFile, writeSpooled } from './spool.js';

const OARSTAT_BUDGET_MS = 20_000;
const ABSENT_BUDGET_MS = 15_000;
const SPOOL_BUDGET_MS = 3_000;

/**
 * Deploy job ending (normally, oardel, walltime, shell exit): record the restore request durably
 * (spool), take the nodes out of scheduling, revoke the owner's rights (ending their operations
 * there), hand the restore to the engine, whose first delivery revokes again (the engine may be
 * down now: see docs/decisions/0004-double-revoke.md). Returns the exit code.
 *
 * Exit 1 only when the nodes may go back into scheduling without production: the job's hosts
 * could not be read, or could not be set Absent. OAR then stops every queue (SERVER_EPILOGUE_*
 * events) until an admin runs `oarnotify -E`, which is the safe side: no job lands on a node still
 * running the user's system. Everything else (engine down, spool unwritable) is logged and exits 0.
 */
export async function runEpilogue(deps: HookDeps, jobId: number, nodeArgs?: NodeHookArgs): Promise<number> {
  const { log } = deps;
  const decision = await decideJob(deps, jobId, OARSTAT_BUDGET_MS, nodeArgs);
  if (decision.kind === 'unknown-state') {
    log(
      `${decision.reason}; exiting 1 so that OAR stops the queues rather than release nodes that may not run production (fix, then oarnotify -E)`,
    );
    return 1;
  }
  if (decision.kind === 'skip') {
    log(decision.reason);
    return 0;
  }
  const { job } = decision;
  log(
    `deploy job of ${job.owner} on ${job.nodes.length} nodes ${endReason(job)} (state ${job.state}): restoring production`,
  );
  const request: RestoreRequest = {
    job: job.id,
    user: job.owner,
    nodes: job.nodes,
    ...(deps.config.productionEnv ? { production: deps.config.productionEnv } : {}),
  };
  const spooled = spoolRequest(deps, request);
  const absentOk = await takeOutOfService(deps, job);
  const revoke = await revokeRights(deps, job);
  if (revoke.engineUp) {
    await handOver(deps, request, spooled);
    await deliverPending(deps, SPOOL_BUDGET_MS);
  } else if (spooled) {
    keepSpooled(deps, spooled, revoke.error, false);
    const file = spoolFile(deps.config.spoolDir, job.id);
    log(`restore request kept in ${file}: delivered by the next hook run or 'kaploy oar restores --deliver'`);
  }
  return absentOk ? 0 : 1;
}

/** First, so that nothing is lost if OAR kills us (SIGKILL at its timeout) or the engine is down. */
function spoolRequest(deps: HookDeps, request: RestoreRequest): SpoolEntry | undefined {
  const entry: SpoolEntry = { request, created: deps.now(), attempts: 0, nextAttemptAt: 0, lastError: '' };
  try {
    writeSpooled(deps.config.spoolDir, entry);
    return entry;
  } catch (e) {
    deps.log(
      `WARNING: cannot spool the restore request (${errorMessage(e)}); it will be lost if the engine does not take it now`,
    );
    return undefined;
  }
}

async function takeOutOfService(deps: HookDeps, job: OarJob): Promise<boolean> {
  const { config, deadline, log } = deps;
  const t0 = deps.now();
  try {
    const r = await retryWithin(
      async () => {
        const res = await setNodesAbsent(
          config.oarnodesetting,
          { nodes: job.nodes, resources: job.resources },
          {
            timeoutMs: deadline.bound(config.commandTimeoutMs),
            signal: deadline.signal,
          },
        );
        if (!res.ok) throw new Error(res.error ?? 'failed');
        return res;
      },
      {
        budgetMs: deadline.bound(ABSENT_BUDGET_MS, SPOOL_BUDGET_MS),
        signal: deadline.signal,
        retryable: () => true,
      },
    );
    const unknown = r.unknown.length
      ? ` (${r.unknown.length} unknown to OAR: ${r.unknown.slice(0, 5).join(' ')})`
      : '';
    log(
      `${job.nodes.length} nodes set Absent until production is restored${unknown} in ${deps.now() - t0} ms`,
    );
    return true;
  } catch (e) {
    log(`FAILED to set the ${job.nodes.length} nodes Absent: ${errorMessage(e)}`);
    return false;
  }
}

/** engineUp false: the engine could not be reached (the restore request then stays spooled). */
async function revokeRights(deps: HookDeps, job: OarJob): Promise<{ engineUp: boolean; error: string }> {
  const { engine, deadline, log } = deps;
  if (!engine) {
    log(
      `rights of ${job.owner} not revoked now (no usable engine configuration): the spooled restore request revokes them when delivered`,
    );
    return { engineUp: false, error: 'no usable engine configuration' };
  }
  const t0 = deps.now();
  try {
    const r = await engine.revoke(job.owner, job.nodes, job.id, deadline.signal);
    const cancelled = r.cancelled.length ? `, cancelled operations ${r.cancelled.join(' ')}` : '';
    log(
      `revoked ${job.owner}'s rights on ${job.nodes.length} nodes (${r.removed} removed${cancelled}) in ${deps.now() - t0} ms`,
    );
    return { engineUp: true, error: '' };
  } catch (e) {
    log(
      `could not revoke ${job.owner}'s rights now (${errorMessage(e)}): the restore request revokes them when delivered`,
    );
    return { engineUp: !isRetryableEngineError(e), error: errorMessage(e) };
  }
}

/** Records why the request is still here, and when to try again (backoff). */
function keepSpooled(deps: HookDeps, entry: SpoolEntry, error: string, backoff: boolean): void {
  try {
    recordFailure(deps.config.spoolDir, entry, error, deps.now(), backoff);
  } catch (e) {
    deps.log(`WARNING: cannot update the spool: ${errorMessage(e)}`);
  }
}

async function handOver(
  deps: HookDeps,
  request: RestoreRequest,
  spooled: SpoolEntry | undefined,
): Promise<void> {
  const { engine, deadline, log, config } = deps;
  if (!engine) return;
  try {
    const r = await engine.requestRestore(request, deadline.signal);
    if (spooled) removeSpooled(config.spoolDir, request.job);
    log(`restore of ${request.nodes.length} nodes handed to the engine (${r.added} new)`);
  } catch (e) {
    const error = errorMessage(e);
    if (!isRetryableEngineError(e)) {
      if (spooled) markRejected(config.spoolDir, spooled, error);
      log(
        `restore request REFUSED by the engine (${error}): kept as rejected in ${config.spoolDir}; the nodes stay Absent`,
      );
      return;
    }
    if (spooled) keepSpooled(deps, spooled, error, !isKaployError(e, 'KAPLOY_CLIENT'));
    log(
      `restore request not taken by the engine now (${error}): kept in ${spoolFile(config.spoolDir, request.job)} for a later delivery`,
    );
  }
}
