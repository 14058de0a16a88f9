import type { Implementation, MacroStep, MicroStep, WorkflowPlan } from './types.js';

/**
 * What the runner reports while it works, as a union keyed by `kind` (rendered as Kadeploy-style
 * text by renderEvent; stored or streamed as JSON by the engine). Node lists are shared arrays: a
 * consumer must not mutate them.
 */
export type WorkflowEvent =
  | {
      kind: 'workflow_start';
      wid: string;
      nodes: readonly string[];
      plan: WorkflowPlan;
      notes: readonly string[];
    }
  | {
      kind: 'macro_start';
      macro: MacroStep;
      impl: Implementation;
      /** 0 for the first attempt of this instance. */
      attempt: number;
      retries: number;
      timeoutSec: number;
      nodes: readonly string[];
      /** Micro-steps pruned for this deployment (verbosity 5). */
      bypassed: readonly { micro: MicroStep; why: string }[];
    }
  | {
      kind: 'macro_end';
      macro: MacroStep;
      impl: Implementation;
      nodes: readonly string[];
      durationMs: number;
    }
  | {
      kind: 'micro_start';
      macro: MacroStep;
      impl: Implementation;
      micro: MicroStep;
      nodes: readonly string[];
    }
  | {
      kind: 'micro_end';
      macro: MacroStep;
      impl: Implementation;
      micro: MicroStep;
      /** Nodes whose result arrived in this batch, and how many of them succeeded. */
      nodes: number;
      ok: number;
      durationMs: number;
    }
  | {
      kind: 'nodes_ko';
      macro: MacroStep;
      impl: Implementation;
      micro: MicroStep;
      reason: string;
      nodes: readonly string[];
      /** Time since this instance attempt started. */
      durationMs: number;
    }
  | {
      kind: 'split';
      macro: MacroStep;
      impl: Implementation;
      micro: MicroStep;
      /** Nodes that go on at once. */
      continuing: readonly string[];
      /** The rest of the group (failed, or still running the micro-step). */
      others: readonly string[];
    }
  | {
      kind: 'retry';
      macro: MacroStep;
      impl: Implementation;
      attempt: number;
      retries: number;
      nodes: readonly string[];
    }
  | { kind: 'fallback'; macro: MacroStep; from: Implementation; to: Implementation; nodes: readonly string[] }
  | { kind: 'timeout'; macro: MacroStep; impl: Implementation; timeoutSec: number; nodes: readonly string[] }
  | {
      kind: 'breakpoint';
      macro: MacroStep;
      impl: Implementation;
      micro: MicroStep;
      nodes: readonly string[];
      durationMs: number;
    }
  | {
      kind: 'cancelled';
      /** Why, when not the whole workflow's cancel: another deployment took these nodes (--force). */
      reason?: string;
      macro: MacroStep;
      impl: Implementation;
      micro: MicroStep;
      nodes: readonly string[];
    }
  | {
      kind: 'note';
      macro: MacroStep;
      impl: Implementation;
      micro: MicroStep;
      verbosity: number;
      text: string;
    }
  | { kind: 'debug'; node: string; macro: MacroStep; impl: Implementation; micro: MicroStep; text: string }
  | {
      kind: 'workflow_end';
      wid: string;
      ok: readonly string[];
      ko: readonly string[];
      breakpoint: readonly string[];
      cancelled: readonly string[];
      durationMs: number;
    };
