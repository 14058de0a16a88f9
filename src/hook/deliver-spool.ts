import { errorMessage, isKaployError } from '../common/errors.js';
import type { HookEngine } from './hook-engine.js';
import { isRetryableEngineError } from './hook-engine.js';
import { listSpooled, markRejected, removeSpooled, type SpoolEntry, writeSpooled } from './spool.js';
import { spoolRetryDelayMs } from './spool-backoff.js';

export interface DeliveryReport {
  delivered: number[];
  failed: { job: number; error: string }[];
  rejected: { job: number; error: string }[];
  /** Not due yet (backoff), or skipped because the engine just failed. */
  deferred: number[];
}

/**
 * Hands spooled restore requests to the engine, oldest first. A request is removed only after
 * the engine acknowledged it (stored durably: POST /restores answers after the commit). After
 * the first unreachable-engine failure the others are deferred: the engine is down for them too.
 * Requests the engine failed on wait their backoff (spool-backoff.ts).
 * `force` ignores the backoff (an admin's --deliver).
 */
export async function deliverSpool(
  dir: string,
  engine: HookEngine,
  opts: {
    signal: AbortSignal;
    now: () => number;
    force?: boolean;
    onlyJob?: number;
    log?: (m: string) => void;
  },
): Promise<DeliveryReport> {
  const report: DeliveryReport = { delivered: [], failed: [], rejected: [], deferred: [] };
  let engineDown = false;
  for (const entry of listSpooled(dir).pending) {
    const job = entry.request.job;
    if (opts.onlyJob !== undefined && job !== opts.onlyJob) continue;
    if (opts.signal.aborted || engineDown || (!opts.force && entry.nextAttemptAt > opts.now())) {
      report.deferred.push(job);
      continue;
    }
    try {
      await engine.requestRestore(entry.request, opts.signal);
      removeSpooled(dir, job);
      report.delivered.push(job);
      opts.log?.(
        `restore request for job ${job} (${entry.request.nodes.length} nodes of ${entry.request.user}) delivered from the spool`,
      );
    } catch (e) {
      const error = errorMessage(e);
      if (isRetryableEngineError(e)) {
        // Unreachable: the engine is down for the other requests too.
        const unreachable = isKaployError(e, 'KAPLOY_CLIENT');
        if (unreachable) engineDown = true;
        recordFailure(dir, entry, error, opts.now(), !unreachable);
        report.failed.push({ job, error });
        opts.log?.(
          `restore request for job ${job} still undelivered (attempt ${entry.attempts + 1}): ${error}`,
        );
      } else {
        markRejected(dir, entry, error);
        report.rejected.push({ job, error });
        opts.log?.(
          `restore request for job ${job} REFUSED by the engine, kept as rejected in ${dir}: ${error}`,
        );
      }
    }
  }
  return report;
}

/**
 * Records a failed delivery. The backoff applies to requests the engine itself failed on (an
 * internal error, a missing route); a connection failure says nothing about the request, so it is
 * tried again at the next hook run that reaches the engine.
 */
export function recordFailure(
  dir: string,
  entry: SpoolEntry,
  error: string,
  now: number,
  backoff: boolean,
): SpoolEntry {
  const attempts = entry.attempts + 1;
  const next = {
    ...entry,
    attempts,
    lastError: error.slice(0, 500),
    nextAttemptAt: backoff ? now + spoolRetryDelayMs(attempts) : now,
  };
  writeSpooled(dir, next);
  return next;
}
