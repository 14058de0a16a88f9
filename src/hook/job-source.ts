import type { HookDeps } from './hook-deps.js';
import { isDeployJob, type OarJob } from './oar-job.js';
import { lookupJob } from './read-job.js';

/**
 * Where a hook learns about its job. Server hooks have only the job id (oarstat); the node-level
 * pair (PROLOGUE_EXEC_FILE/EPILOGUE_EXEC_FILE) also gets the user and the node file, which then
 * override oarstat's owner and hosts (OAR wrote them for this very run).
 */
export interface NodeHookArgs {
  user: string;
  nodes: string[];
}

export type JobDecision =
  | { kind: 'act'; job: OarJob }
  | { kind: 'skip'; reason: string }
  | { kind: 'unknown-state'; reason: string };

export async function decideJob(
  deps: HookDeps,
  jobId: number,
  budgetMs: number,
  nodeArgs?: NodeHookArgs,
): Promise<JobDecision> {
  const found = await lookupJob(deps, jobId, budgetMs);
  if (found.kind === 'failed')
    return { kind: 'unknown-state', reason: `cannot read job ${jobId}: ${found.error}` };
  if (found.kind === 'unknown')
    return { kind: 'skip', reason: `job ${jobId} is unknown to OAR (oarstat prints nothing): nothing to do` };
  // The node file may name other hosts than oarstat: no resource ids then (set Absent by host).
  const job = nodeArgs
    ? { ...found.job, owner: nodeArgs.user, nodes: nodeArgs.nodes, resources: [] }
    : found.job;
  if (!isDeployJob(job)) {
    return {
      kind: 'skip',
      reason: `not a deploy job (types: ${job.types.join(',') || 'none'}): nothing to do`,
    };
  }
  if (job.nodes.length === 0)
    return { kind: 'skip', reason: `deploy job of ${job.owner} has no assigned node: nothing to do` };
  return { kind: 'act', job };
}
