import { recordStats } from '../../stats/record-stats.js';
import type { EngineContext } from '../server/context.js';
import type { WorkflowRow } from '../store/workflows-repo.js';
import type { BaseOutcome, OperationPlan, PlanKind } from './operation-kind.js';
import type { OperationResults } from './operation-results.js';

/**
 * How the log of a resumed operation is numbered: its n-th resumption numbers its entries from
 * n * LOG_GENERATION, above any entry of the logs before (see OperationLog's `base`).
 */
export const LOG_GENERATION = 2 ** 40;

/**
 * How a kind resumes one of its operations an engine restart interrupted (durable workflows,
 * docs/decisions/0033-durable-workflows.md): its plan, made again from the stored request and the
 * progress its nodes recorded. Throws (or rejects) when it cannot go on: the operation then fails
 * with that reason. `queued`: it was waiting for admission (decision 0037), with these nodes (what
 * its checks kept); its turn came, and its checks are made again on them as its owner's, none of
 * its nodes touched yet.
 */
export type Resumer = (
  row: WorkflowRow,
  signal: AbortSignal,
  queued?: readonly string[],
) => Promise<OperationPlan<BaseOutcome>>;

/** The kinds that resume their interrupted operations (the others are settled as failed). */
export type Resumers = Partial<Record<PlanKind<BaseOutcome>['name'], Resumer>>;

/** What the operation service needs to make an interrupted operation live again. */
export interface Resumption {
  kind: PlanKind<BaseOutcome>;
  wid: string;
  user: string;
  /** Running: the nodes still given to it; queued: the nodes its checks kept. */
  nodes: string[];
  request: object;
  created: number;
  plan: (signal: AbortSignal) => Promise<OperationPlan<BaseOutcome>>;
}

/** The nodes an admission queue row names (unreadable: none). */
function queuedNodes(json: string): string[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((n): n is string => typeof n === 'string') : [];
  } catch {
    return [];
  }
}

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
 * Operations an engine crash left unfinished (their workflow rows never got a status): those that
 * were running, of a kind with a resumer, go on (`resume`: the operation service makes them live
 * again under their id, with the nodes that were still theirs); those waiting for admission, of a
 * kind with a resumer, wait again (`requeue`), all kinds together in the order they were queued,
 * after the running ones are counted in flight; every other ends failed, as settleInterrupted says.
 * The progress of operations finished since is dropped.
 */
export function recoverInterrupted(
  ctx: EngineContext,
  results: OperationResults,
  kinds: readonly PlanKind<BaseOutcome>[],
  resumers: Resumers,
  resume: (r: Resumption) => void,
  requeue: (r: Resumption) => void,
): void {
  ctx.store.progress.forgetFinished();
  const queue = new Map(ctx.store.progress.queue().map((q, i) => [q.wid, { at: i, nodes: q.nodes }]));
  const waiting: { at: number; r: Resumption }[] = [];
  for (const kind of kinds) {
    const resumer = resumers[kind.name];
    for (const w of ctx.store.workflows.list({ kind: kind.name, unfinished: true })) {
      const { request, nodes } = storedRequest(w.request);
      // Run as a call by the engine itself (the OAR restore): its caller, gone with the engine,
      // runs it again from its own durable table; resumed here, it would run twice.
      if (ctx.store.progress.byCall(w.wid)) {
        settleInterrupted(ctx, results, kind, w);
        continue;
      }
      const place = w.status === 'queued' ? queue.get(w.wid) : undefined;
      if (resumer && place && typeof request === 'object' && request !== null) {
        const kept = queuedNodes(place.nodes);
        waiting.push({
          at: place.at,
          r: {
            kind,
            wid: w.wid,
            user: w.user,
            nodes: kept,
            request,
            created: w.created,
            plan: (signal) => resumer(w, signal, kept),
          },
        });
        continue;
      }
      // Stopped while preparing (an image download), or queued by an engine that did not keep its
      // place: no node was touched, nothing to resume.
      if (!resumer || w.status !== 'running' || typeof request !== 'object' || request === null) {
        settleInterrupted(ctx, results, kind, w);
        continue;
      }
      // Its nodes: those still given to it (the others were left out as busy, or taken since).
      const ours = nodes.filter((n) => ctx.store.nodes.get(n)?.wid === w.wid);
      resume({
        kind,
        wid: w.wid,
        user: w.user,
        nodes: ours,
        request,
        created: w.created,
        plan: (signal) => resumer(w, signal),
      });
    }
  }
  for (const { r } of waiting.sort((a, b) => a.at - b.at)) requeue(r);
}

/**
 * One operation an engine crash left unfinished, ended failed: its nodes that still belong to it
 * in the kind's failed state, with one statistics row and one outcome per node, as if the engine
 * had seen every node fail (one stopped while preparing or queued, which touched no node, gets its outcomes
 * and no statistics row).
 */
function settleInterrupted(
  ctx: EngineContext,
  results: OperationResults,
  kind: PlanKind<BaseOutcome>,
  w: WorkflowRow,
): void {
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
