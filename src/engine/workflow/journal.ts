import type { Implementation, MacroRecord, MacroStep, MicroStep, NodeOutcome } from './types.js';

/** Where a node is in a run: an attempt of an implementation, and the last micro-step it completed. */
export interface JournalPoint {
  macro: MacroStep;
  impl: Implementation;
  attempt: number;
  /** The last micro-step completed in this attempt; undefined: the attempt started, none completed. */
  micro?: MicroStep;
}

/** A node's statistics record so far, as the runner's ledger keeps it. */
export interface NodeRecord {
  startedAt: number;
  attempts: number;
  steps: Partial<Record<MacroStep, MacroRecord>>;
}

/**
 * What the runner tells of each node's progress, so an engine restart can resume it (durable
 * workflows, docs/decisions/0033): the micro-steps completed, the attempts started (retries,
 * fallbacks), the unsafe steps entered, the outcomes. Calls are synchronous and must not throw.
 */
export interface WorkflowJournal {
  reached(nodes: readonly string[], at: JournalPoint, record: (node: string) => NodeRecord): void;
  /**
   * The nodes (at `at`) are about to run `micro`, which cannot be redone safely: recorded durably
   * before it runs, with everything reported before.
   */
  entering(
    nodes: readonly string[],
    at: JournalPoint,
    micro: MicroStep,
    record: (node: string) => NodeRecord,
  ): void;
  finished(outcomes: readonly NodeOutcome[]): void;
}

/** What a restarted engine knows of one node of an interrupted run. */
export interface RecoveredNode {
  at?: JournalPoint;
  /** The unsafe micro-step the node had entered (after `at`), if any. */
  entered?: MicroStep;
  record?: NodeRecord;
  outcome?: NodeOutcome;
}
