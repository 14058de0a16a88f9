import type { EngineContext } from '../server/context.js';
import type { MicroStepFn, MicroStepTable, NodeOutcome, NodeResult } from '../workflow/types.js';
import type { OperationRun } from './operation-kind.js';

/** The per-node reason a pre-empted node ends with (stable code KAPLOY_PREEMPTED on its outcome). */
const takenReason = (user: string, wid: string) => `taken by ${user}'s deployment ${wid} (--force)`;

/**
 * A deployment started with --force takes its nodes from the deployments running on them: each of
 * those is told which of its nodes were taken and by whom, and ends them cancelled with that
 * reason (its other nodes go on). Without this, the taker's reboot showed in the pre-empted
 * deployment as "SSH connection lost". Returns what was taken, per pre-empted deployment.
 */
function preemptOthers(
  ctx: EngineContext,
  taker: { wid: string; user: string; nodes: readonly string[] },
): { wid: string; user: string; nodes: string[] }[] {
  const mine = new Set(taker.nodes);
  const reason = takenReason(taker.user, taker.wid);
  const hits: { wid: string; user: string; nodes: string[] }[] = [];
  for (const op of ctx.operations.list()) {
    if (op.wid === taker.wid || op.kind !== 'deploy') continue;
    const nodes = op.nodes.filter((n) => mine.has(n) && ctx.operations.taken.reason(op.wid, n) === undefined);
    if (nodes.length === 0) continue;
    ctx.operations.taken.take(op.wid, nodes, reason);
    hits.push({ wid: op.wid, user: op.user, nodes });
  }
  return hits;
}

/**
 * The micro-steps of a deployment that can be pre-empted: a node taken while a micro-step works
 * on it is reported failed at once with the taker's reason (the runner then ends it cancelled,
 * `takenBy`), and one taken before is never given to the step. The call itself goes on for the
 * group's other nodes; what it later says of a taken node is ignored.
 */
function preemptibleSteps(steps: MicroStepTable, ctx: EngineContext, wid: string): MicroStepTable {
  const { taken } = ctx.operations;
  const wrap =
    (fn: MicroStepFn): MicroStepFn =>
    async (nodes, sctx) => {
      const results = new Map<string, NodeResult>();
      const failOf = (n: string): NodeResult | undefined => {
        const reason = taken.reason(wid, n);
        return reason === undefined ? undefined : { ok: false, reason };
      };
      const given = nodes.filter((n) => {
        const f = failOf(n);
        if (f) results.set(n, f);
        return !f;
      });
      if (given.length === 0) return results;
      const inGroup = new Set(given);
      const stop = taken.onTaken(wid, (gone) => {
        for (const n of gone) {
          const f = inGroup.has(n) ? failOf(n) : undefined;
          if (f) sctx.report?.(n, f);
        }
      });
      try {
        const inner = await fn(given, sctx);
        for (const [n, r] of inner) results.set(n, failOf(n) ?? r);
        return results;
      } finally {
        stop();
      }
    };
  // A view, not a copy: whatever the table is (an object, a test's proxy), each look-up is wrapped.
  return new Proxy(steps, {
    get: (table, micro) => {
      const fn: unknown = Reflect.get(table, micro);
      return typeof fn === 'function' ? wrap(fn as MicroStepFn) : fn;
    },
  });
}

/** What one deployment's run wires in: its steps made pre-emptible, the runner's `takenBy`. */
export interface DeploymentPreemption {
  steps(table: MicroStepTable): MicroStepTable;
  takenBy(node: string): string | undefined;
}

/**
 * Called when a deployment's run starts: with `force` (its user, its nodes), it first takes its
 * nodes from the deployments running on them, saying so in its log; in every case its own nodes
 * can be taken from it later.
 */
export function deploymentPreemption(
  ctx: EngineContext,
  r: Pick<OperationRun, 'wid' | 'log'>,
  force?: { user: string; nodes: readonly string[] },
): DeploymentPreemption {
  if (force)
    for (const hit of preemptOthers(ctx, { wid: r.wid, ...force }))
      r.log.line(
        0,
        `The nodes ${hit.nodes.join(', ')} are taken from ${hit.user}'s deployment ${hit.wid} (--force)`,
      );
  return {
    steps: (table) => preemptibleSteps(table, ctx, r.wid),
    takenBy: (node) => ctx.operations.taken.reason(r.wid, node),
  };
}

/** A node taken by another deployment is that one's now: its end must not touch the node's state. */
export const wasPreempted = (o: NodeOutcome): boolean => o.code === 'KAPLOY_PREEMPTED';
