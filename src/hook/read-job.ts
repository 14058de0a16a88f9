import { errorMessage } from '../common/errors.js';
import { retryWithin } from './deadline.js';
import type { HookDeps } from './hook-deps.js';
import type { OarJob } from './oar-job.js';
import { readOarJob } from './oarstat.js';

export type JobLookup =
  | { kind: 'found'; job: OarJob }
  | { kind: 'unknown' }
  | { kind: 'failed'; error: string };

/**
 * Reads the job, retrying oarstat within `budgetMs` (its database connection can fail while
 * PostgreSQL is busy). Failures are values: what to do about them is the hook's decision.
 */
export async function lookupJob(deps: HookDeps, jobId: number, budgetMs: number): Promise<JobLookup> {
  const { config, deadline } = deps;
  try {
    const job = await retryWithin(
      () =>
        readOarJob(config.oarstat, jobId, {
          timeoutMs: deadline.bound(config.commandTimeoutMs),
          signal: deadline.signal,
        }),
      { budgetMs: deadline.bound(budgetMs), signal: deadline.signal, retryable: () => true },
    );
    return job === undefined ? { kind: 'unknown' } : { kind: 'found', job };
  } catch (e) {
    return { kind: 'failed', error: errorMessage(e) };
  }
}
