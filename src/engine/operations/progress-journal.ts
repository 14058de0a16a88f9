import type { ProgressPosition, ProgressRepo, ProgressRow } from '../store/progress-repo.js';
import type { JournalPoint, NodeRecord, RecoveredNode, WorkflowJournal } from '../workflow/journal.js';
import type { MicroStep, NodeOutcome } from '../workflow/types.js';

/** How long progress waits to be written together (the pattern of the known-hosts writes). */
const WRITE_DELAY_MS = 50;

/**
 * The durable journal of one operation's run (docs/decisions/0033-durable-workflows.md): each
 * node's last completed micro-step and its outcome, in the store. Every commit is an fsync
 * (synchronous=FULL) that blocks the event loop, so what the runner reports is kept per node (the
 * latest only) and written in one transaction per WRITE_DELAY_MS: one row update per node per
 * micro-step at most. What a crash loses inside that window is only steps a restart redoes, all of
 * them safe to redo: an unsafe step is written at once, with everything before it, as entered.
 */
export class ProgressJournal implements WorkflowJournal {
  readonly #positions = new Map<string, ProgressPosition>();
  readonly #outcomes = new Map<string, string>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly repo: ProgressRepo,
    private readonly wid: string,
    private readonly onWriteError: (e: unknown) => void,
  ) {}

  reached(nodes: readonly string[], at: JournalPoint, record: (node: string) => NodeRecord): void {
    this.#keep(nodes, at, null, record);
    this.#schedule();
  }

  entering(
    nodes: readonly string[],
    at: JournalPoint,
    micro: MicroStep,
    record: (node: string) => NodeRecord,
  ): void {
    this.#keep(nodes, at, micro, record);
    this.flush();
  }

  finished(outcomes: readonly NodeOutcome[]): void {
    for (const o of outcomes) this.#outcomes.set(o.node, JSON.stringify(o));
    this.#schedule();
  }

  /** Writes what was reported since the last write (also at the end of the run). */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#positions.size === 0 && this.#outcomes.size === 0) return;
    const positions = [...this.#positions.values()];
    const outcomes = [...this.#outcomes].map(([node, outcome]) => ({ node, outcome }));
    this.#positions.clear();
    this.#outcomes.clear();
    try {
      this.repo.write(this.wid, positions, outcomes);
    } catch (e) {
      // The store is failing (or closed): the run goes on; a restart redoes a few safe steps more.
      this.onWriteError(e);
    }
  }

  #keep(
    nodes: readonly string[],
    at: JournalPoint,
    entered: MicroStep | null,
    record: (node: string) => NodeRecord,
  ): void {
    for (const node of nodes)
      this.#positions.set(node, {
        node,
        macro: at.macro,
        impl: at.impl,
        attempt: at.attempt,
        micro: at.micro ?? null,
        entered,
        ledger: JSON.stringify(record(node)),
      });
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => this.flush(), WRITE_DELAY_MS);
    this.#timer.unref();
  }
}

/** What the store holds of each node of an interrupted run (an unreadable row: nothing known). */
export function recoveredNodes(rows: readonly ProgressRow[]): Map<string, RecoveredNode> {
  const out = new Map<string, RecoveredNode>();
  for (const r of rows) {
    const rec: RecoveredNode = {};
    if (r.macro && r.impl && r.attempt !== null && r.ledger) {
      rec.at = {
        macro: r.macro as JournalPoint['macro'],
        impl: r.impl as JournalPoint['impl'],
        attempt: r.attempt,
        ...(r.micro ? { micro: r.micro as MicroStep } : {}),
      };
      if (r.entered) rec.entered = r.entered as MicroStep;
      rec.record = parse<NodeRecord>(r.ledger);
      if (!rec.record) delete rec.at;
    }
    const outcome = r.outcome ? parse<NodeOutcome>(r.outcome) : undefined;
    if (outcome) {
      rec.outcome = outcome;
      rec.record ??= {
        startedAt: Date.now() - outcome.durationMs,
        attempts: outcome.attempts,
        steps: outcome.steps,
      };
    }
    out.set(r.node, rec);
  }
  return out;
}

function parse<T>(json: string): T | undefined {
  try {
    return JSON.parse(json) as T;
  } catch {
    return undefined;
  }
}
