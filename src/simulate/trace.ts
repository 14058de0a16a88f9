import type { Implementation, MacroStep, MicroStep } from '../engine/workflow/types.js';

/** One node's part in one micro-step call, in virtual ms. */
export interface Span {
  macro: MacroStep;
  impl: Implementation;
  micro: MicroStep;
  attempt: number;
  start: number;
  end: number;
  ok: boolean;
}

/** Every node's spans, in order; what the critical path and the per-macro times are read from. */
export class Trace {
  readonly spans = new Map<string, Span[]>();
  /** wait_reboot's own per-node timeouts: escalations to a harder reboot, and nodes given up. */
  escalations = 0;
  rebootGiveUps = 0;

  add(node: string, s: Span): void {
    const list = this.spans.get(node);
    if (list) list.push(s);
    else this.spans.set(node, [s]);
  }
}
