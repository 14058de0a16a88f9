import { recordStats } from '../../stats/record-stats.js';
import type { EngineContext } from '../server/context.js';
import type { BaseOutcome, PlanKind } from './operation-kind.js';
import type { OperationResults } from './operation-results.js';

/** The nodes a stored request names (unreadable request: none to settle). */
function storedRequest(json: string): { request: unknown; nodes: string[] } {
  let request: unknown;
  try {
    request = JSON.parse(json);
  } catch {
    return { request: undefined, nodes: [] };
  }
  const nodes = (request as { nodes?: unknown } | null)?.nodes;
  return {
    request,
    nodes: Array.isArray(nodes) ? nodes.filter((n): n is string => typeof n === 'string') : [],
  };
}

/**
 * Operations an engine crash left unfinished (their workflow rows never got a status): each ends
 * failed, its nodes that still belong to it in the kind's failed state, with one statistics row
 * and one outcome per node, as if the engine had seen every node fail (one stopped while preparing,
 * which touched no node, gets its outcomes and no statistics row).
 */
export function settleInterrupted(
  ctx: EngineContext,
  results: OperationResults,
  kinds: readonly PlanKind<BaseOutcome>[],
): void {
  for (const kind of kinds) {
    for (const w of ctx.store.workflows.list({ kind: kind.name, unfinished: true })) {
      const { request, nodes } = storedRequest(w.request);
      // Stopped while preparing (an image download) or queued by admission control: no node was
      // touched, so no statistics row.
      const touched = w.status !== 'preparing' && w.status !== 'queued';
      const reason = `the engine stopped during the ${kind.noun}`;
      const outcomes = nodes.map((node) =>
        kind.unfinished(node, { status: 'ko', reason, durationMs: 0 }, request),
      );
      ctx.store.transaction(() => {
        for (const n of nodes) {
          if (ctx.store.nodes.get(n)?.wid === w.wid) ctx.store.nodes.update(n, { state: kind.failedState });
        }
        if (touched)
          recordStats(
            ctx.store.db,
            kind.statsRows(outcomes, {
              wid: w.wid,
              user: w.user,
              startMs: w.created,
              env: '',
              anonymous: false,
              md5: '',
            }),
          );
        results.save(w.wid, outcomes, { code: 'KAPLOY_INTERNAL', message: reason });
        ctx.store.workflows.setStatus(w.wid, 'failed', true);
      });
    }
  }
}
