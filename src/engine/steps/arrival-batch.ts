import type { Clock, ClockTimer } from '../workflow/clock.js';
import type { NodeResult } from '../workflow/types.js';

/** How many poll periods the first node found back waits at most for others (see below). */
export const GROUP_HOLD_ROUNDS = 5;

/**
 * The nodes found back by a wait_reboot, reported in batches.
 *
 * A node that is back (or finally KO) goes on without waiting for slow or dead nodes (the runner
 * splits the group on early reports). But nodes coming back together are reported together:
 * reported one by one as their probes answer, they split the group into many small groups, each
 * paying its own micro-step calls and its own broadcast chain (100 zero-delay nodes made 21
 * chains). So the nodes found back are held while more keep coming back: the batch is reported at
 * the end of the first round that finds no new node (or once none is pending), or once it is
 * GROUP_HOLD_ROUNDS poll periods old (mid-round if need be), so a slow or endless stream of
 * arrivals holds the first ones at most that long, and a node that does not come back holds the
 * others at most one round.
 *
 * The real step and the simulator's model (src/simulate/model-steps.ts) share it, each with its
 * clock, so the simulated grouping is the real one.
 */
export class ArrivalBatch {
  private batch: [string, NodeResult][] = [];
  private timer: ClockTimer | undefined;
  private foundThisRound = 0;

  constructor(
    private readonly clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>,
    private readonly pollMs: number,
    private readonly report: ((node: string, r: NodeResult) => void) | undefined,
  ) {}

  /** A node's final result of this wait: held in the batch, which starts its hold timer. */
  add(node: string, r: NodeResult): void {
    this.batch.push([node, r]);
    this.foundThisRound++;
    this.timer ??= this.clock.setTimeout(() => this.flush(), this.pollMs * GROUP_HOLD_ROUNDS);
  }

  /** A probing round starts. */
  startRound(): void {
    this.foundThisRound = 0;
  }

  /** At a round's end: report the batch unless nodes are still coming back. */
  endRound(pending: number): void {
    if (this.foundThisRound === 0 || pending === 0) this.flush();
  }

  /** Reports every node held (at the end of the wait, or when the hold expires). */
  flush(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const out = this.batch;
    this.batch = [];
    for (const [node, r] of out) this.report?.(node, r);
  }
}
