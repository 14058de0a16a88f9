import type { OperationStatus } from '../../api/operation-status.js';
import type { EngineContext } from '../server/context.js';
import type { AdmissionBounds, AdmissionQueue } from './admission.js';
import type { BaseOutcome, OperationPlan } from './operation-kind.js';
import type { OperationLog } from './operation-log.js';

/** What of an operation's live record waiting for admission changes (OperationService's record). */
interface Admittable {
  wid: string;
  plan: OperationPlan<BaseOutcome>;
  status: OperationStatus['status'];
  log: OperationLog;
  controller: AbortController;
}

const bound = (n: number, what: string) => (n > 0 ? `${n} ${what}` : `no bound on ${what}`);

function describe(b: AdmissionBounds): string {
  return `${bound(b.maxOperations, 'operations')}, ${bound(b.maxNodes, 'nodes')}`;
}

/**
 * An operation whose checks passed asks admission control to start. Undefined: it may start now.
 * Else it is `queued` (its status and workflow row, and its place in the store's admission queue,
 * so a restarted engine queues it again: decision 0037), with its position in its log and the
 * metrics, and the returned promise resolves
 * when it may start (its row `running` again), or rejects with the abort reason when it is
 * cancelled (or the engine stops) while it waits: it then left the queue, no node touched.
 */
export function enterAdmission(
  ctx: EngineContext,
  queue: AdmissionQueue,
  live: Admittable,
  plan: OperationPlan<BaseOutcome>,
  /** Queued before an engine restart (durable queue, decision 0037): its row says so already. */
  restored = false,
): Promise<void> | undefined {
  const title = `${plan.kind.title} #${live.wid}`;
  const n = plan.nodes.length;
  const entered = queue.enter(live.wid, n, live.controller.signal, (p) =>
    live.log.line(1, `${title} now at position ${p} in the queue`),
  );
  if (!entered) return undefined;
  // Stopped before it could wait (position 0): it ends cancelled, never said queued.
  if (entered.position === 0) return entered.admitted;
  const load = queue.load();
  live.plan = plan;
  live.status = 'queued';
  live.log.nodes.clear();
  for (const node of plan.nodes) live.log.nodes.set(node, { state: 'waiting' });
  // Its place is durable: a restarted engine queues it again, in the same order (decision 0037).
  if (!restored)
    ctx.store.transaction(() => {
      ctx.store.workflows.setStatus(live.wid, 'queued', false);
      ctx.store.progress.enqueue(live.wid, plan.nodes);
      // What it deploys, as its checks resolved it: the same version and image once its turn comes.
      if (plan.md5) ctx.store.progress.begin(live.wid, plan.env, plan.md5);
    });
  live.log.line(
    0,
    `${title} ${restored ? 'still queued after the engine restarted' : 'queued'} (position ${entered.position}): ${load.operations} operation(s) with ${load.nodes} node(s) in flight, the site admits ${describe(queue.bounds)}`,
  );
  const { maxNodes } = queue.bounds;
  if (maxNodes > 0 && n > maxNodes)
    live.log.line(0, `${title} has ${n} nodes, more than the site's ${maxNodes}: it will run alone`);
  const uncount = ctx.metrics?.operations.admissionQueued(plan.kind.name, n);
  const since = Date.now();
  return entered.admitted
    .then(() => {
      ctx.store.transaction(() => {
        ctx.store.workflows.setStatus(live.wid, 'running', false);
        ctx.store.progress.dequeue(live.wid);
      });
      live.log.line(
        0,
        `${title} leaves the queue after ${Math.round((Date.now() - since) / 1000)} s and starts`,
      );
    })
    .finally(() => uncount?.());
}
