import { KaployError } from '../../common/errors.js';
import type { NodeRecord } from './journal.js';
import type { Implementation, MacroRecord, MacroStep, MicroStep, NodeOutcome } from './types.js';

/** Where a node is, or where it stopped. */
export interface Position {
  macro: MacroStep;
  impl: Implementation;
  micro: MicroStep;
}

interface NodeRun {
  startedAt: number;
  attempts: number;
  steps: Partial<Record<MacroStep, MacroRecord>>;
  macroStartedAt: number;
  macroAttempts: number;
  at?: Position;
  outcome?: NodeOutcome;
}

/**
 * Per-node bookkeeping of one workflow run: the statistics record of every macro-step (last
 * implementation used, retries used in the macro-step, its timeout, time spent in the macro-step
 * over all attempts and fallbacks) and the final outcome. O(1) per node and event.
 */
export class NodeLedger {
  private readonly runs = new Map<string, NodeRun>();

  /** `onFinish`: the outcomes each finish call made (the durable journal's). */
  constructor(
    nodes: readonly string[],
    private readonly now: () => number,
    private readonly onFinish?: (outcomes: NodeOutcome[]) => void,
  ) {
    const t = now();
    for (const n of nodes) {
      if (this.runs.has(n)) {
        throw new KaployError('KAPLOY_NODE_LIST', `Node ${n} is given twice to the workflow`, { node: n });
      }
      this.runs.set(n, { startedAt: t, attempts: 0, steps: {}, macroStartedAt: t, macroAttempts: 0 });
    }
  }

  private run(node: string): NodeRun {
    const r = this.runs.get(node);
    if (!r) throw new KaployError('KAPLOY_INTERNAL', `Workflow runner: unknown node ${node}`, { node });
    return r;
  }

  /** The node's statistics record so far (what the durable journal keeps). */
  record(node: string): NodeRecord {
    const r = this.run(node);
    return { startedAt: r.startedAt, attempts: r.attempts, steps: r.steps };
  }

  /**
   * A node resumed after an engine restart in the attempt `attempt` of `macro`: its record as it
   * was, that attempt not counted yet (startAttempt counts it again), or its outcome if it had one.
   */
  restore(node: string, rec: NodeRecord, macro?: MacroStep, outcome?: NodeOutcome): void {
    const r = this.run(node);
    r.startedAt = rec.startedAt;
    r.steps = { ...rec.steps };
    r.attempts = Math.max(0, rec.attempts - (macro ? 1 : 0));
    r.macroAttempts = macro ? (rec.steps[macro]?.retries ?? 0) : 0;
    if (outcome) r.outcome = outcome;
  }

  enterMacro(nodes: readonly string[]): void {
    const t = this.now();
    for (const n of nodes) {
      const r = this.run(n);
      r.macroStartedAt = t;
      r.macroAttempts = 0;
    }
  }

  startAttempt(nodes: readonly string[], macro: MacroStep, impl: Implementation, timeoutSec: number): void {
    for (const n of nodes) {
      const r = this.run(n);
      r.attempts++;
      r.macroAttempts++;
      r.steps[macro] = { impl, retries: r.macroAttempts - 1, timeoutSec, durationMs: 0 };
    }
  }

  moveTo(nodes: readonly string[], at: Position): void {
    for (const n of nodes) this.run(n).at = at;
  }

  position(node: string): Position | undefined {
    return this.run(node).at;
  }

  /** Closes the macro-step record (time spent in it so far). */
  leaveMacro(nodes: readonly string[], macro: MacroStep): void {
    const t = this.now();
    for (const n of nodes) {
      const r = this.run(n);
      const rec = r.steps[macro];
      if (rec) rec.durationMs = t - r.macroStartedAt;
    }
  }

  finish(
    nodes: readonly string[],
    status: NodeOutcome['status'],
    where?: Position,
    reason?: string,
    code?: string,
  ): void {
    const t = this.now();
    const made: NodeOutcome[] = [];
    for (const n of nodes) {
      const r = this.run(n);
      if (r.outcome) continue;
      r.outcome = {
        node: n,
        status,
        ...(where ? { macro: where.macro, impl: where.impl, micro: where.micro } : {}),
        ...(reason === undefined ? {} : { reason }),
        ...(code === undefined ? {} : { code }),
        attempts: r.attempts,
        durationMs: t - r.startedAt,
        steps: r.steps,
      };
      made.push(r.outcome);
    }
    if (made.length > 0) this.onFinish?.(made);
  }

  isFinished(node: string): boolean {
    return this.run(node).outcome !== undefined;
  }

  /** Outcomes in the order the nodes were given. */
  outcomes(): NodeOutcome[] {
    const out: NodeOutcome[] = [];
    for (const [n, r] of this.runs) {
      if (!r.outcome)
        throw new KaployError('KAPLOY_INTERNAL', `Workflow runner left node ${n} without an outcome`, {
          node: n,
        });
      out.push(r.outcome);
    }
    return out;
  }
}
