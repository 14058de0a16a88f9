import { performance } from 'node:perf_hooks';
import { silentLogger } from '../common/logger.js';
import type { ClusterConfig, SiteConfig } from '../common/site-config-types.js';
import type { WorkflowEvent } from '../engine/workflow/events.js';
import { runWorkflow } from '../engine/workflow/runner.js';
import { evalTimeout } from '../engine/workflow/timeout-expr.js';
import {
  type Implementation,
  MACRO_STEPS,
  type MacroStep,
  type NodeOutcome,
  type WorkflowPlan,
} from '../engine/workflow/types.js';
import type { WorkflowOptions } from '../engine/workflow/workflow-options.js';
import { parseAutomata, parseForceSteps } from '../formats/force-steps.js';
import type { HardwareModel } from './model.js';
import { createModelSteps } from './model-steps.js';
import { EventScheduler } from './scheduler.js';
import { type Span, Trace } from './trace.js';

/** One simulated deployment: the site, its hardware, and the deployment's choices. */
export interface SimulationInput {
  site: SiteConfig;
  model: HardwareModel;
  seed: number;
  /** Nodes to deploy (default: every node of the site). */
  nodes?: readonly string[];
  /** A workflow for every cluster instead of each cluster's automata (--force-steps syntax). */
  forceSteps?: string;
  /** Environment and command-line facts that prune micro-steps (default: a linux tar image). */
  options?: Partial<WorkflowOptions>;
  /** wait_reboot timeouts (expressions of n), as --reboot-classical-timeout / --reboot-kexec-timeout. */
  rebootTimeout?: string;
  kexecTimeout?: string;
  /** What-if: the implementation of each macro-step's first instance (retries, timeout kept). */
  implementations?: Partial<Record<MacroStep, Implementation>>;
  /** Cancels the simulation (its workflows end cancelled, then simulate rejects with the reason). */
  signal?: AbortSignal;
}

export interface MacroTime {
  macro: MacroStep;
  startS: number;
  endS: number;
}

export interface CriticalSpan {
  macro: MacroStep;
  impl: string;
  micro: string;
  attempt: number;
  /** Time the node waited before this span started (group, window or retry): its part of the path too. */
  waitS: number;
  startS: number;
  endS: number;
  ok: boolean;
}

export interface TimeoutFired {
  cluster: string;
  macro: MacroStep;
  impl: string;
  timeoutSec: number;
  nodes: number;
  atS: number;
}

export interface SimulationResult {
  nodes: number;
  /** When the last node finished (OK or KO): the deployment's end. */
  totalS: number;
  /** When the last OK node finished (a deployment's end when its KO nodes are not waited for). */
  lastOkS: number;
  ok: number;
  ko: { node: string; macro?: string; impl?: string; micro?: string; reason?: string }[];
  macros: MacroTime[];
  /** The spans of the node that finished last. */
  criticalPath: { node: string; spans: CriticalSpan[] };
  timeouts: TimeoutFired[];
  retries: number;
  fallbacks: number;
  /** wait_reboot's own per-node timeouts: escalations to a harder reboot, and nodes given up. */
  rebootEscalations: number;
  rebootGiveUps: number;
  /** Wall time and scheduler counters, for the bench. */
  stats: { wallMs: number; events: number; batches: number; idleHops: number; microStepCalls: number };
}

function optionsFor(c: ClusterConfig, n: number, input: SimulationInput): WorkflowOptions {
  return {
    os: 'linux',
    imageKind: 'tar',
    partitions: { deploy: c.partitioning.deploy, swap: c.partitioning.swap, tmp: c.partitioning.tmp },
    ...input.options,
    rebootClassicalTimeoutSec: evalTimeout(input.rebootTimeout ?? c.timeouts.reboot, n),
  };
}

function withImplementations(plan: WorkflowPlan, input: SimulationInput): WorkflowPlan {
  const out = { ...plan };
  for (const [macro, impl] of Object.entries(input.implementations ?? {}) as [MacroStep, Implementation][]) {
    const [first, ...rest] = plan[macro];
    if (first) out[macro] = [{ ...first, impl }, ...rest];
  }
  return out;
}

const round3 = (ms: number) => Math.round(ms) / 1000;

/**
 * Runs the engine's workflow runner on every cluster of the site at once (as the deployment service
 * does: one workflow per cluster), on a discrete-event clock with the modelled step table.
 * Deterministic for a given input and seed.
 */
export async function simulate(input: SimulationInput): Promise<SimulationResult> {
  const wall0 = performance.now();
  const clock = new EventScheduler();
  const trace = new Trace();
  const wanted = input.nodes ? new Set(input.nodes) : undefined;
  const timeouts: TimeoutFired[] = [];
  let retries = 0;
  let fallbacks = 0;
  let calls = 0;
  const signal = input.signal ?? new AbortController().signal;
  const parts = input.site.clusters
    .map((c) => ({ c, nodes: c.nodes.map((n) => n.name).filter((n) => !wanted || wanted.has(n)) }))
    .filter((x) => x.nodes.length > 0);
  const outcomes: NodeOutcome[] = (
    await clock.run(() =>
      Promise.all(
        parts.map(({ c, nodes }) => {
          const plan = withImplementations(
            input.forceSteps
              ? parseForceSteps(input.forceSteps)
              : parseAutomata(c.automata, `clusters.${c.name}.automata`),
            input,
          );
          const onEvent = (ev: WorkflowEvent) => {
            if (ev.kind === 'micro_start') calls++;
            else if (ev.kind === 'retry') retries += ev.nodes.length;
            else if (ev.kind === 'fallback') fallbacks += ev.nodes.length;
            else if (ev.kind === 'timeout')
              timeouts.push({
                cluster: c.name,
                macro: ev.macro,
                impl: ev.impl,
                timeoutSec: ev.timeoutSec,
                nodes: ev.nodes.length,
                atS: round3(clock.now()),
              });
          };
          return runWorkflow({
            wid: `sim-${c.name}`,
            nodes,
            plan,
            options: optionsFor(c, nodes.length, input),
            steps: createModelSteps({
              clock,
              model: input.model,
              seed: input.seed,
              site: input.site,
              cluster: c,
              trace,
              ...(input.rebootTimeout ? { rebootTimeout: input.rebootTimeout } : {}),
              ...(input.kexecTimeout ? { kexecTimeout: input.kexecTimeout } : {}),
            }),
            signal,
            logger: silentLogger,
            clock,
            onEvent,
          });
        }),
      ),
    )
  ).flat();
  signal.throwIfAborted();
  let lastOk = 0;
  for (const o of outcomes) {
    if (o.status !== 'ok') continue;
    for (const sp of trace.spans.get(o.node) ?? []) if (sp.end > lastOk) lastOk = sp.end;
  }
  return {
    nodes: outcomes.length,
    totalS: round3(clock.now()),
    lastOkS: round3(lastOk),
    ok: outcomes.filter((o) => o.status === 'ok').length,
    ko: outcomes
      .filter((o) => o.status !== 'ok')
      .map((o) => ({ node: o.node, macro: o.macro, impl: o.impl, micro: o.micro, reason: o.reason })),
    macros: macroTimes(trace),
    criticalPath: criticalPath(trace),
    timeouts,
    retries,
    fallbacks,
    rebootEscalations: trace.escalations,
    rebootGiveUps: trace.rebootGiveUps,
    stats: { wallMs: Math.round(performance.now() - wall0), ...clock.stats, microStepCalls: calls },
  };
}

function macroTimes(trace: Trace): MacroTime[] {
  const at = new Map<MacroStep, { s: number; e: number }>();
  for (const spans of trace.spans.values()) {
    for (const sp of spans) {
      const m = at.get(sp.macro);
      if (!m) at.set(sp.macro, { s: sp.start, e: sp.end });
      else {
        if (sp.start < m.s) m.s = sp.start;
        if (sp.end > m.e) m.e = sp.end;
      }
    }
  }
  return MACRO_STEPS.filter((m) => at.has(m)).map((macro) => {
    const m = at.get(macro) as { s: number; e: number };
    return { macro, startS: round3(m.s), endS: round3(m.e) };
  });
}

function criticalPath(trace: Trace): SimulationResult['criticalPath'] {
  let last: { node: string; spans: Span[]; end: number } | undefined;
  for (const [node, spans] of trace.spans) {
    const end = spans[spans.length - 1]?.end ?? 0;
    if (!last || end > last.end) last = { node, spans, end };
  }
  if (!last) return { node: '', spans: [] };
  let prev = 0;
  return {
    node: last.node,
    // Recorded as calls end: a long wait_reboot that reported the node early ends after the steps
    // the node went on to, so the path is read in start order.
    spans: [...last.spans]
      .sort((a, b) => a.start - b.start || a.end - b.end)
      .map((s) => {
        const out: CriticalSpan = {
          macro: s.macro,
          impl: s.impl,
          micro: s.micro,
          attempt: s.attempt,
          waitS: round3(Math.max(0, s.start - prev)),
          startS: round3(s.start),
          endS: round3(s.end),
          ok: s.ok,
        };
        prev = s.end;
        return out;
      }),
  };
}
