import { getMaxListeners, setMaxListeners } from 'node:events';
import { errorMessage, KaployError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { Attempt } from './attempt.js';
import {
  type Breakpoint,
  hitsBreakpoint,
  locateResume,
  parseBreakpoint,
  type ResumePoint,
} from './breakpoint.js';
import { type Clock, realClock } from './clock.js';
import type { WorkflowEvent } from './events.js';
import type { JournalPoint, RecoveredNode, WorkflowJournal } from './journal.js';
import { pruneMicroSteps } from './micro-steps.js';
import { NodeLedger, type Position } from './node-ledger.js';
import { redoRefusal } from './redo-safety.js';
import { resolvePlan } from './resolve-plan.js';
import { TaskGroup } from './task-group.js';
import {
  type Implementation,
  MACRO_STEPS,
  type MicroStep,
  type MicroStepContext,
  type MicroStepTable,
  type NodeOutcome,
  type NodeResult,
  type WorkflowPlan,
} from './types.js';
import type { WorkflowOptions } from './workflow-options.js';

export interface RunWorkflowParams {
  wid: string;
  nodes: readonly string[];
  /** As parsed (parseForceSteps / parseAutomata); the runner applies resolvePlan itself. */
  plan: WorkflowPlan;
  options: WorkflowOptions;
  /** Each micro-step's function; runMicro looks the micro-step up and calls it (src/engine/steps). */
  steps: MicroStepTable;
  /** Cancels the whole workflow: in-flight micro-steps are aborted, nodes end `cancelled`. */
  signal: AbortSignal;
  /**
   * Why a node was taken from this workflow by another operation (--force), if it was: such a
   * node is not retried nor given to another micro-step, it ends `cancelled` with that reason
   * and code KAPLOY_PREEMPTED (src/engine/operations/preemption.ts).
   */
  takenBy?: (node: string) => string | undefined;
  logger: Logger;
  /** `MACRO[:micro]` text (checked against the plan) or an already parsed breakpoint. */
  breakpoint?: string | Breakpoint;
  /** Continue every node from where an earlier run stopped at a breakpoint. */
  resumeFrom?: ResumePoint;
  /** Told of each node's progress, so an engine restart can resume the run (durable workflows). */
  journal?: WorkflowJournal;
  /**
   * The run an engine restart interrupted: each node goes on after the last micro-step it
   * completed (a node with nothing recorded starts at the beginning); a node with an outcome keeps
   * it. `onResume` hears where each group of nodes goes on from.
   */
  recovered?: ReadonlyMap<string, RecoveredNode>;
  onResume?: (step: string, nodes: readonly string[]) => void;
  onEvent?: (ev: WorkflowEvent) => void;
  /** Clock for durations (ms); the clock's now by default. */
  now?: () => number;
  /** Time and timers (instance timeouts); the real clock by default, the simulator's virtual one. */
  clock?: Clock;
}

const NO_RESULT = 'the micro-step returned no result for this node';

/**
 * Drives the nodes through SetDeploymentEnv, BroadcastEnv and BootNewEnv (reference §3). Work is
 * done per node group: one micro-step call per group and micro-step. A group splits when its nodes go
 * different ways: nodes that finish an instance go on to the next macro-step at once, nodes that
 * fail retry the instance, then fall back to the next listed implementation, then end KO. Resolves
 * with one outcome per node (in the order given); throws only for bad input (breakpoint, resume
 * point, duplicate nodes) or a runner bug.
 */
export async function runWorkflow(p: RunWorkflowParams): Promise<NodeOutcome[]> {
  const clock = p.clock ?? realClock;
  const now = p.now ?? clock.now;
  const { plan, notes } = resolvePlan(p.plan, p.options);
  const pruned = new Map<Implementation, ReturnType<typeof pruneMicroSteps>>();
  const prunedOf = (impl: Implementation) => {
    let v = pruned.get(impl);
    if (!v) {
      v = pruneMicroSteps(impl, p.options);
      pruned.set(impl, v);
    }
    return v;
  };
  const stepsOf = (impl: Implementation): readonly MicroStep[] => prunedOf(impl).steps;
  const bp = typeof p.breakpoint === 'string' ? parseBreakpoint(p.breakpoint, plan, p.options) : p.breakpoint;
  const resume = p.resumeFrom ? locateResume(p.resumeFrom, plan, stepsOf) : undefined;
  for (const macro of MACRO_STEPS) {
    if (plan[macro].length === 0) {
      throw new KaployError('KAPLOY_OPTION', `The workflow plan lists no implementation for ${macro}`, {
        step: macro,
      });
    }
  }

  const journal = p.journal;
  const ledger = new NodeLedger(p.nodes, now, journal && ((o) => journal.finished(o)));
  const recordOf = (node: string) => ledger.record(node);
  const log = p.logger.child({ workflow: p.wid });
  const startedAt = now();
  const emit = (ev: WorkflowEvent): void => {
    try {
      p.onEvent?.(ev);
    } catch (e) {
      // A broken listener must not break a deployment of 2,000 nodes.
      log.warn({ err: e, kind: ev.kind }, 'workflow event listener failed');
    }
  };

  const live = new Set<Attempt>();
  const abortLive = () => {
    for (const a of live) a.controller.abort(p.signal.reason);
  };
  const tasks = new TaskGroup((e) => {
    log.error({ err: e }, 'workflow runner failed');
    for (const a of live) a.controller.abort(e);
  });

  const retire = (att: Attempt) => {
    if (att.inside.size === 0) {
      att.disarm();
      live.delete(att);
    }
  };

  const finishOk = (nodes: string[]) => ledger.finish(nodes, 'ok');

  const cancel = (nodes: readonly string[], at: Position) => {
    if (nodes.length === 0) return;
    ledger.leaveMacro(nodes, at.macro);
    ledger.finish(nodes, 'cancelled', at, 'Cancelled');
    emit({ kind: 'cancelled', ...at, nodes });
  };

  /** Ends the nodes another operation took (cancelled, with its reason); returns the others. */
  const dropTaken = (nodes: string[], at: Position): string[] => {
    if (!p.takenBy) return nodes;
    const byReason = new Map<string, string[]>();
    const kept: string[] = [];
    for (const n of nodes) {
      const reason = p.takenBy(n);
      if (reason === undefined) kept.push(n);
      else byReason.set(reason, [...(byReason.get(reason) ?? []), n]);
    }
    for (const [reason, taken] of byReason) {
      ledger.leaveMacro(taken, at.macro);
      ledger.finish(taken, 'cancelled', at, reason, 'KAPLOY_PREEMPTED');
      emit({ kind: 'cancelled', ...at, nodes: taken, reason });
    }
    return kept;
  };

  const startMacro = (nodes: string[], macroIndex: number) => {
    const macro = MACRO_STEPS[macroIndex];
    if (macro === undefined) return finishOk(nodes);
    ledger.enterMacro(nodes);
    startAttempt(nodes, macroIndex, 0, 0, 0, false);
  };

  const startAttempt = (
    nodes: string[],
    macroIndex: number,
    instanceIndex: number,
    number: number,
    fromMicro: number,
    skipBreakpoint: boolean,
  ) => {
    const macro = MACRO_STEPS[macroIndex]!;
    const inst = plan[macro][instanceIndex]!;
    const { steps, bypassed } = prunedOf(inst.impl);
    if (p.signal.aborted) {
      return cancel(nodes, { macro, impl: inst.impl, micro: steps[fromMicro] ?? steps[0] ?? 'dummy' });
    }
    const att = new Attempt(macro, macroIndex, instanceIndex, number, inst, steps, nodes, now(), clock);
    live.add(att);
    ledger.startAttempt(nodes, macro, inst.impl, inst.timeoutSec);
    // A retry or a fallback starts its implementation again: what the journal said is done no
    // longer holds (the first attempt of a macro-step follows from the last step of the one before).
    // A resumed attempt (fromMicro > 0) keeps what its nodes completed.
    if (journal && fromMicro === 0 && (number > 0 || instanceIndex > 0))
      journal.reached(nodes, { macro, impl: inst.impl, attempt: number }, recordOf);
    emit({
      kind: 'macro_start',
      macro,
      impl: inst.impl,
      attempt: number,
      retries: inst.retries,
      timeoutSec: inst.timeoutSec,
      nodes,
      bypassed,
    });
    att.arm(() => onTimeout(att));
    tasks.spawn(() => runStep(att, nodes, fromMicro, skipBreakpoint));
  };

  const onTimeout = (att: Attempt) => {
    const nodes = [...att.inside];
    att.timedOut = true;
    att.inside.clear();
    retire(att);
    const reason = `Timeout in the ${att.inst.impl} step`;
    att.controller.abort(new KaployError('KAPLOY_EXECUTE', reason, { step: att.inst.impl }));
    if (nodes.length === 0) return;
    emit({ kind: 'timeout', macro: att.macro, impl: att.inst.impl, timeoutSec: att.inst.timeoutSec, nodes });
    // Retry only once the aborted calls have returned, so two attempts never act on a node at once.
    const inflight = [...att.inflight];
    tasks.spawn(async () => {
      await Promise.allSettled(inflight);
      const byMicro = new Map<MicroStep, string[]>();
      for (const n of nodes) {
        const micro = ledger.position(n)?.micro ?? att.steps[0] ?? 'dummy';
        const list = byMicro.get(micro);
        if (list) list.push(n);
        else byMicro.set(micro, [n]);
      }
      for (const [micro, group] of byMicro) failed(att, group, micro, reason);
    });
  };

  /** Nodes that failed this attempt: retry, fall back, or end KO (cancelled if the workflow is). */
  const failed = (att: Attempt, given: string[], micro: MicroStep, reason: string) => {
    const at: Position = { macro: att.macro, impl: att.inst.impl, micro };
    for (const n of given) att.inside.delete(n);
    retire(att);
    if (p.signal.aborted) return cancel(given, at);
    const nodes = dropTaken(given, at);
    if (nodes.length === 0) return;
    emit({ kind: 'nodes_ko', ...at, reason, nodes, durationMs: now() - att.startedAt });
    log.debug({ step: `${at.impl}-${micro}`, nodes: nodes.length, reason }, 'nodes failed');
    if (att.number < att.inst.retries) {
      emit({
        kind: 'retry',
        macro: att.macro,
        impl: att.inst.impl,
        attempt: att.number + 1,
        retries: att.inst.retries,
        nodes,
      });
      return startAttempt(nodes, att.macroIndex, att.instanceIndex, att.number + 1, 0, false);
    }
    const next = plan[att.macro][att.instanceIndex + 1];
    if (next) {
      emit({ kind: 'fallback', macro: att.macro, from: att.inst.impl, to: next.impl, nodes });
      return startAttempt(nodes, att.macroIndex, att.instanceIndex + 1, 0, 0, false);
    }
    ledger.leaveMacro(nodes, att.macro);
    ledger.finish(nodes, 'ko', at, reason);
  };

  const runStep = async (att: Attempt, given: string[], index: number, skipBreakpoint: boolean) => {
    const inside = att.stillInside(given);
    if (inside.length === 0) return;
    const impl = att.inst.impl;
    const micro = att.steps[index];
    const taken = inside.filter((n) => p.takenBy?.(n) !== undefined);
    if (taken.length > 0) {
      for (const n of taken) att.inside.delete(n);
      retire(att);
      dropTaken(taken, { macro: att.macro, impl, micro: micro ?? att.steps[index - 1] ?? 'dummy' });
    }
    const group = taken.length > 0 ? att.stillInside(inside) : inside;
    if (group.length === 0) return;
    if (micro === undefined) {
      for (const n of group) att.inside.delete(n);
      retire(att);
      ledger.leaveMacro(group, att.macro);
      emit({ kind: 'macro_end', macro: att.macro, impl, nodes: group, durationMs: now() - att.startedAt });
      return startMacro(group, att.macroIndex + 1);
    }
    const at: Position = { macro: att.macro, impl, micro };
    ledger.moveTo(group, at);
    if (p.signal.aborted) {
      for (const n of group) att.inside.delete(n);
      retire(att);
      return cancel(group, at);
    }
    if (!skipBreakpoint && hitsBreakpoint(bp, att.macro, impl, att.steps, index)) {
      for (const n of group) att.inside.delete(n);
      retire(att);
      ledger.leaveMacro(group, att.macro);
      ledger.finish(group, 'breakpoint', at, `Breakpoint before ${impl}-${micro}`);
      emit({ kind: 'breakpoint', ...at, nodes: group, durationMs: now() - att.startedAt });
      return;
    }
    await runMicro(att, group, index, at);
  };

  const runMicro = async (att: Attempt, group: string[], index: number, at: Position) => {
    const point: JournalPoint = {
      macro: at.macro,
      impl: at.impl,
      attempt: att.number,
      ...(index > 0 ? { micro: att.steps[index - 1] as MicroStep } : {}),
    };
    // A step that cannot be redone is recorded as entered before it runs: a restart then knows
    // whether the node was in it (it fails) or not yet (it runs it).
    if (journal && redoRefusal(at.micro)) journal.entering(group, point, at.micro, recordOf);
    emit({ kind: 'micro_start', ...at, nodes: group });
    const callStart = now();
    const pending = new Set(group);
    let ok: string[] = [];
    let ko = new Map<string, string[]>();
    let count = 0;
    // Early reports are flushed from setImmediate: every result that arrives in the same turn of
    // the event loop (all timers or all socket reads of that turn) moves on as one group.
    let scheduled: ReturnType<typeof setImmediate> | undefined;

    const flush = () => {
      if (scheduled !== undefined) clearImmediate(scheduled);
      scheduled = undefined;
      if (count === 0) return;
      const okBatch = att.stillInside(ok);
      const koBatch = ko;
      const seen = count;
      ok = [];
      ko = new Map();
      count = 0;
      if (att.timedOut) return; // the timeout already took these nodes
      emit({ kind: 'micro_end', ...at, nodes: seen, ok: okBatch.length, durationMs: now() - callStart });
      if (journal && okBatch.length > 0)
        journal.reached(
          okBatch,
          { macro: at.macro, impl: at.impl, attempt: att.number, micro: at.micro },
          recordOf,
        );
      for (const [reason, nodes] of koBatch) {
        const still = att.stillInside(nodes);
        if (still.length > 0) failed(att, still, at.micro, reason);
      }
      if (okBatch.length === 0) return;
      if (okBatch.length < group.length) {
        const moving = new Set(okBatch);
        emit({ kind: 'split', ...at, continuing: okBatch, others: group.filter((n) => !moving.has(n)) });
      }
      tasks.spawn(() => runStep(att, okBatch, index + 1, false));
    };

    const settle = (node: string, result: NodeResult) => {
      if (!pending.delete(node)) return;
      count++;
      if (result.ok) ok.push(node);
      else {
        const reason = result.reason;
        const list = ko.get(reason);
        if (list) list.push(node);
        else ko.set(reason, [node]);
      }
      if (scheduled === undefined) {
        scheduled = setImmediate(flush);
      }
    };

    const ctx: MicroStepContext = {
      wid: p.wid,
      macro: at.macro,
      impl: at.impl,
      micro: at.micro,
      signal: att.controller.signal,
      logger: log.child({ step: `${at.impl}-${at.micro}`, micro: at.micro }),
      attempt: att.number,
      debug: (node, text) => emit({ kind: 'debug', node, ...at, text }),
      report: settle,
      note: (text, verbosity = 3) => emit({ kind: 'note', ...at, verbosity, text }),
    };

    // Every node's command, probe and relay listens on the one step signal: dozens are expected.
    // The signal is the attempt's, shared by all its groups: only raise the bound, or a small
    // group split off late would lower it under the listeners of the others still running.
    const wanted = Math.max(10, group.length * 8);
    if (getMaxListeners(ctx.signal) < wanted) setMaxListeners(wanted, ctx.signal);
    let results: Map<string, NodeResult> | undefined;
    let thrown: { e: unknown } | undefined;
    try {
      results = await att.track(p.steps[at.micro](group, ctx));
    } catch (e) {
      thrown = { e };
    }
    ctx.logger.debug(
      {
        nodes: group.length,
        ko: results ? [...results.values()].filter((r) => !r.ok).length : group.length,
        durationMs: now() - callStart,
      },
      'micro-step done',
    );
    for (const n of [...pending]) {
      const r = results?.get(n);
      if (r) settle(n, r);
      else if (thrown) settle(n, { ok: false, reason: errorMessage(thrown.e) });
      else settle(n, { ok: false, reason: NO_RESULT });
    }
    flush();
  };

  /**
   * After an engine restart: each node goes on after the last micro-step it completed, grouped by
   * where that is; a node known to have entered a step that cannot be redone, or whose position
   * this plan does not run, ends KO with the reason.
   */
  const resumeRecovered = (nodes: readonly string[], recovered: ReadonlyMap<string, RecoveredNode>) => {
    const groups = new Map<string, { nodes: string[]; go: () => void; step: string }>();
    const join = (key: string, step: string, node: string, go: (g: string[]) => void) => {
      let g = groups.get(key);
      if (!g) {
        const list: string[] = [];
        g = { nodes: list, go: () => go(list), step };
        groups.set(key, g);
      }
      g.nodes.push(node);
    };
    for (const node of nodes) {
      const rec = recovered.get(node);
      const at = rec?.at;
      if (rec?.record) ledger.restore(node, rec.record, at?.macro, rec.outcome);
      if (rec?.outcome) continue;
      if (!at) {
        const first = plan.SetDeploymentEnv[0]!;
        join('start', `${first.impl}-${stepsOf(first.impl)[0] ?? 'dummy'}`, node, (g) => startMacro(g, 0));
        continue;
      }
      const macroIndex = MACRO_STEPS.indexOf(at.macro);
      const instanceIndex = plan[at.macro]?.findIndex((i) => i.impl === at.impl) ?? -1;
      const steps = stepsOf(at.impl);
      const done = at.micro === undefined ? -1 : steps.indexOf(at.micro);
      const where: Position = { macro: at.macro, impl: at.impl, micro: at.micro ?? steps[0] ?? 'dummy' };
      if (macroIndex < 0 || instanceIndex < 0 || (at.micro !== undefined && done < 0)) {
        ledger.finish(
          [node],
          'ko',
          where,
          `the engine restarted and this deployment no longer runs ${at.impl}-${where.micro}`,
        );
        continue;
      }
      const next = steps[done + 1];
      if (next === undefined) {
        const following = MACRO_STEPS[macroIndex + 1];
        const inst = following && plan[following][0];
        join(
          `macro ${macroIndex + 1}`,
          inst ? `${inst.impl}-${stepsOf(inst.impl)[0] ?? 'dummy'}` : 'the end',
          node,
          (g) => startMacro(g, macroIndex + 1),
        );
        continue;
      }
      const refusal = redoRefusal(next);
      if (refusal && rec?.entered === next) {
        ledger.finish(
          [node],
          'ko',
          { ...where, micro: next },
          `the engine restarted during ${at.impl}-${next}: ${refusal}`,
        );
        continue;
      }
      join(`${macroIndex} ${instanceIndex} ${at.attempt} ${done + 1}`, `${at.impl}-${next}`, node, (g) =>
        startAttempt(g, macroIndex, instanceIndex, at.attempt, done + 1, false),
      );
    }
    for (const g of groups.values()) {
      p.onResume?.(g.step, g.nodes);
      g.go();
    }
  };

  emit({ kind: 'workflow_start', wid: p.wid, nodes: p.nodes, plan, notes });
  log.info({ nodes: p.nodes.length }, 'workflow started');
  p.signal.addEventListener('abort', abortLive, { once: true });
  try {
    if (p.nodes.length > 0) {
      const nodes = [...p.nodes];
      if (p.recovered) {
        resumeRecovered(nodes, p.recovered);
      } else if (resume && p.resumeFrom) {
        ledger.enterMacro(nodes);
        // Where the nodes start is what they completed, for a restart of this run too.
        const before = stepsOf(p.resumeFrom.impl)[resume.microIndex - 1];
        journal?.reached(
          nodes,
          {
            macro: p.resumeFrom.macro,
            impl: p.resumeFrom.impl,
            attempt: 0,
            ...(before ? { micro: before } : {}),
          },
          recordOf,
        );
        startAttempt(nodes, resume.macroIndex, resume.instanceIndex, 0, resume.microIndex, true);
      } else {
        startMacro(nodes, 0);
      }
    }
    await tasks.drain();
  } catch (e) {
    throw new KaployError('KAPLOY_INTERNAL', `Workflow ${p.wid} failed: ${errorMessage(e)}`, { cause: e });
  } finally {
    p.signal.removeEventListener('abort', abortLive);
    for (const a of live) a.disarm();
    live.clear();
  }
  const outcomes = ledger.outcomes();
  const by = (s: NodeOutcome['status']) => outcomes.filter((o) => o.status === s).map((o) => o.node);
  emit({
    kind: 'workflow_end',
    wid: p.wid,
    ok: by('ok'),
    ko: by('ko'),
    breakpoint: by('breakpoint'),
    cancelled: by('cancelled'),
    durationMs: now() - startedAt,
  });
  log.info({ ok: by('ok').length, ko: by('ko').length }, 'workflow ended');
  return outcomes;
}
