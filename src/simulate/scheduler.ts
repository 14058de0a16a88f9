import { KaployError } from '../common/errors.js';
import type { Clock, ClockTimer } from '../engine/workflow/clock.js';

interface Event {
  at: number;
  seq: number;
  fn: (() => void) | undefined; // undefined once cancelled (lazy deletion)
}

/** Where the scheduler's own wall time went, for the bench. */
export interface SchedulerStats {
  events: number;
  batches: number;
  idleHops: number;
}

const yieldTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A discrete-event clock: timers are events in a binary heap ordered by (time, insertion), and
 * virtual time jumps to the next event as soon as every task waits. "Every task waits" is seen
 * from the event loop: after a batch of events fires, the scheduler yields whole event-loop turns
 * (the runner moves reported nodes on from setImmediate) until a turn passes in which nothing new
 * was scheduled. Single-threaded and deterministic: the same inputs fire the same events in the
 * same order.
 */
export class EventScheduler implements Clock {
  private heap: Event[] = [];
  private seq = 0;
  private time = 0;
  readonly stats: SchedulerStats = { events: 0, batches: 0, idleHops: 0 };

  now = (): number => this.time;

  /** An infinite delay is never (a hung node): no event, so it cannot move time to infinity. */
  setTimeout = (fn: () => void, ms: number): ClockTimer => {
    const ev: Event = { at: this.time + Math.max(0, ms), seq: this.seq++, fn };
    if (Number.isFinite(ev.at)) this.push(ev);
    return ev;
  };

  clearTimeout = (t: ClockTimer): void => {
    (t as Event).fn = undefined;
  };

  sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        this.clearTimeout(t);
        reject(signal?.reason);
      };
      const t = this.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });

  /**
   * Runs `work` (which schedules on this clock) to its end, firing events as virtual time advances.
   * Rejects with work's error; resolves with its value once it settles.
   */
  async run<T>(work: () => Promise<T>): Promise<T> {
    let settled = false;
    const p = work().finally(() => {
      settled = true;
    });
    p.catch(() => undefined);
    while (!settled) {
      await this.idle();
      if (settled) break;
      if (!this.fireNext()) {
        // Nothing left to fire and the work still waits: let its last turns run, or it never ends.
        await this.idle();
        if (!settled && this.heap.length === 0) {
          throw new KaployError(
            'KAPLOY_INTERNAL',
            `simulation deadlocked at virtual time ${this.time} ms (no event left)`,
          );
        }
      }
    }
    return p;
  }

  /** Yields event-loop turns until one passes with nothing newly scheduled. */
  private async idle(): Promise<void> {
    let before: number;
    do {
      before = this.seq;
      await yieldTurn();
      await yieldTurn();
      this.stats.idleHops += 2;
    } while (this.seq !== before);
  }

  /** Fires every live event of the earliest time; false when none is left. */
  private fireNext(): boolean {
    let first = this.pop();
    while (first && first.fn === undefined) first = this.pop();
    if (!first) return false;
    this.time = first.at;
    this.stats.batches++;
    const batch = [first];
    while (this.heap.length > 0 && (this.heap[0] as Event).at === first.at) {
      const ev = this.pop() as Event;
      if (ev.fn) batch.push(ev);
    }
    for (const ev of batch) {
      const fn = ev.fn;
      ev.fn = undefined;
      if (fn) {
        this.stats.events++;
        fn();
      }
    }
    return true;
  }

  private less(a: Event, b: Event): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(ev: Event): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(ev, h[parent] as Event)) break;
      h[i] = h[parent] as Event;
      i = parent;
    }
    h[i] = ev;
  }

  private pop(): Event | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && this.less(h[r] as Event, h[l] as Event) ? r : l;
      if (!this.less(h[c] as Event, last)) break;
      h[i] = h[c] as Event;
      i = c;
    }
    h[i] = last;
    return top;
  }
}
