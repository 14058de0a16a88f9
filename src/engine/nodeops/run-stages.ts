import type { StepMetrics } from '../metrics/step-metrics.js';
import type { OperationRun } from '../operations/operation-kind.js';
import type { MicroStep, NodeResult } from '../workflow/types.js';
import type { NodeOpOutcome } from './node-op-outcome.js';

/** One micro-step of a reboot, run on the nodes still OK. */
export interface Stage {
  micro: MicroStep | 'set_pxe';
  run(nodes: readonly string[]): Promise<Map<string, NodeResult>>;
}

/** Where the nodes of a reboot are, durably (durable reboots, docs/decisions/0037). */
export interface StageJournal {
  /** These nodes completed this stage (written at once: one transaction per stage). */
  completed(nodes: readonly string[], micro: string): void;
  ended(outcomes: readonly NodeOpOutcome[]): void;
}

/**
 * Drives the nodes through a reboot's micro-steps in order: a node KO at a step stops there, the
 * others go on; an abort ends every node left as cancelled. Logs as Kadeploy does (step at
 * verbosity 1, micro-steps at 3, failures at 1). `from`: the index of the first stage of each node
 * resumed after an engine restart (a node skips the stages before it; absent: 0).
 */
export async function runStages(
  r: OperationRun,
  title: string,
  impl: string,
  nodes: readonly string[],
  stages: readonly Stage[],
  meta: {
    timeoutSec: number;
    retries(node: string): number;
    /** Step durations by cluster (kaploy_micro/macro_step_duration_seconds), when metrics are on. */
    metrics?: { steps: StepMetrics; clusterOf(node: string): string };
    from?: ReadonlyMap<string, number>;
    journal?: StageJournal;
  },
): Promise<NodeOpOutcome[]> {
  const clustersOf = (ns: readonly string[]) => new Set(ns.map((n) => meta.metrics?.clusterOf(n) ?? ''));
  const started = Date.now();
  const outcomes = new Map<string, NodeOpOutcome>();
  const end = (node: string, status: NodeOpOutcome['status'], micro: string, reason?: string) => {
    outcomes.set(node, {
      node,
      status,
      step: impl,
      micro,
      ...(reason !== undefined ? { reason } : {}),
      retries: meta.retries(node),
      timeoutSec: meta.timeoutSec,
      durationMs: Date.now() - started,
    });
  };
  r.log.line(1, `Performing a ${title}[${impl}] step on ${nodes.length} node(s)`);
  let alive = [...nodes];
  let last = stages[0]?.micro ?? 'reboot';
  const first = (n: string) => meta.from?.get(n) ?? 0;
  for (const [i, stage] of stages.entries()) {
    if (alive.length === 0) break;
    last = stage.micro;
    if (r.signal.aborted) break;
    // Nodes resumed past this stage skip it.
    const these = alive.filter((n) => first(n) <= i);
    if (these.length === 0) continue;
    r.log.line(3, `  ${stage.micro}`);
    for (const n of these) r.log.nodes.set(n, { macro: impl, micro: stage.micro, state: 'running' });
    const t0 = Date.now();
    const res = await stage.run(these);
    if (meta.metrics)
      for (const c of clustersOf(these))
        meta.metrics.steps.nodeOpMicro(c, impl, stage.micro, (Date.now() - t0) / 1000);
    const failed = new Set<string>();
    for (const n of these) {
      const x = res.get(n) ?? { ok: false, reason: 'no result' };
      if (x.ok) continue;
      failed.add(n);
      if (r.signal.aborted) end(n, 'cancelled', stage.micro, 'cancelled');
      else {
        r.log.line(1, `!!! ${n} failed on ${impl}-${stage.micro}: ${x.reason}`);
        r.log.nodes.set(n, { macro: impl, micro: stage.micro, state: 'ko', error: x.reason });
        end(n, 'ko', stage.micro, x.reason);
      }
    }
    const done = these.filter((n) => !failed.has(n));
    if (!r.signal.aborted && done.length > 0) meta.journal?.completed(done, stage.micro);
    alive = alive.filter((n) => !failed.has(n));
  }
  for (const n of alive) {
    if (r.signal.aborted) end(n, 'cancelled', last, 'cancelled');
    else end(n, 'ok', last);
  }
  if (meta.metrics && !r.signal.aborted)
    for (const c of clustersOf(alive))
      meta.metrics.steps.nodeOpMacro(c, title, impl, (Date.now() - started) / 1000);
  r.log.line(1, `End of step ${title}[${impl}] after ${Math.round((Date.now() - started) / 1000)}s`);
  const all = nodes.map((n) => outcomes.get(n) as NodeOpOutcome);
  meta.journal?.ended(all);
  return all;
}
