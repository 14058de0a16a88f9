import { errorMessage } from '../common/errors.js';
import { retryWithin } from './deadline.js';
import { deliverSpool } from './deliver-spool.js';
import type { HookDeps } from './hook-deps.js';
import { isRetryableEngineError } from './hook-engine.js';
import { decideJob, type NodeHookArgs } from './job-source.js';

/** Time kept for handing over spooled restore requests after the grant (the job waits for us). */
const PROLOGUE_SPOOL_BUDGET_MS = 2_000;
const OARSTAT_BUDGET_MS = 10_000;

/**
 * Deploy job starting: grant its owner rights on exactly its nodes (deploy partition) for the
 * job's lifetime. Always exit 0: a failed server prologue puts the job in Error and stops every
 * queue, while a job without rights only means its owner's kadeploy3 is refused (and logged here).
 */
export async function runPrologue(deps: HookDeps, jobId: number, nodeArgs?: NodeHookArgs): Promise<number> {
  const { log, deadline, config } = deps;
  const decision = await decideJob(deps, jobId, OARSTAT_BUDGET_MS, nodeArgs);
  if (decision.kind === 'unknown-state') {
    log(`${decision.reason}; no rights granted (the job starts, its owner cannot deploy)`);
    return 0;
  }
  if (decision.kind === 'skip') {
    log(decision.reason);
    return 0;
  }
  const { job } = decision;
  const engine = deps.engine;
  if (!engine) {
    log(
      `cannot grant ${job.owner} rights on ${job.nodes.length} nodes: no usable engine configuration (see above)`,
    );
    return 0;
  }
  const t0 = deps.now();
  try {
    await retryWithin(() => engine.grant(job.owner, job.nodes, config.partitions, job.id, deadline.signal), {
      budgetMs: deadline.bound(config.grantRetryMs, PROLOGUE_SPOOL_BUDGET_MS),
      signal: deadline.signal,
      retryable: isRetryableEngineError,
    });
    log(
      `granted ${job.owner} deploy rights on ${job.nodes.length} nodes (partitions ${config.partitions.join(',')}) in ${deps.now() - t0} ms`,
    );
  } catch (e) {
    log(
      `could not grant ${job.owner} rights on ${job.nodes.length} nodes, the owner cannot deploy in this job: ${errorMessage(e)}`,
    );
    return 0;
  }
  await deliverPending(deps, PROLOGUE_SPOOL_BUDGET_MS);
  return 0;
}

/** Best effort, bounded: earlier undelivered restore requests, now that the engine answered. */
export async function deliverPending(deps: HookDeps, budgetMs: number): Promise<void> {
  if (!deps.engine) return;
  const budget = deps.deadline.bound(budgetMs);
  if (budget <= 0) return;
  try {
    await deliverSpool(deps.config.spoolDir, deps.engine, {
      signal: AbortSignal.any([deps.deadline.signal, AbortSignal.timeout(budget)]),
      now: deps.now,
      log: deps.log,
    });
  } catch (e) {
    deps.log(`spool ${deps.config.spoolDir} not delivered: ${errorMessage(e)}`);
  }
}
