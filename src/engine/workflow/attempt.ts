import type { Clock, ClockTimer } from './clock.js';
import type { ImplInstance, MacroStep, MicroStep } from './types.js';

/**
 * One attempt of one implementation instance on a set of nodes: its own timer and its own
 * AbortController (aborted by the instance timeout, or by the workflow signal through the runner),
 * the nodes still inside it, and the micro-step calls in flight so a retry after a timeout starts only
 * once the aborted calls have returned.
 */
export class Attempt {
  readonly controller = new AbortController();
  readonly inside: Set<string>;
  readonly inflight = new Set<Promise<unknown>>();
  timedOut = false;
  private timer: ClockTimer | undefined;

  constructor(
    readonly macro: MacroStep,
    readonly macroIndex: number,
    readonly instanceIndex: number,
    readonly number: number,
    readonly inst: ImplInstance,
    readonly steps: readonly MicroStep[],
    nodes: readonly string[],
    readonly startedAt: number,
    private readonly clock: Clock,
  ) {
    this.inside = new Set(nodes);
  }

  /** Starts the instance timeout (0 = none). */
  arm(onTimeout: () => void): void {
    if (this.inst.timeoutSec > 0) this.timer = this.clock.setTimeout(onTimeout, this.inst.timeoutSec * 1000);
  }

  disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Keeps only the nodes still inside (timed-out or departed ones are dropped). */
  stillInside(nodes: readonly string[]): string[] {
    return nodes.filter((n) => this.inside.has(n));
  }

  track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const untrack = () => {
      this.inflight.delete(p);
    };
    p.then(untrack, untrack);
    return p;
  }
}
