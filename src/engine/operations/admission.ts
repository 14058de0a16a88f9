/** The site-wide bound (site configuration `admission`); 0 means no bound. */
export interface AdmissionBounds {
  maxOperations: number;
  maxNodes: number;
}

interface Waiter {
  wid: string;
  nodes: number;
  admit(): void;
  /** Told the waiter's new 1-based position after one ahead of it left the queue. */
  moved(position: number): void;
  /** Removes the abort listener of the waiter's signal. */
  forget(): void;
}

/**
 * Admission control: at most `maxOperations` operations and `maxNodes` of their nodes in flight
 * on the site; an operation beyond the bound waits, first come first served, instead of being
 * refused (Ironic refuses above its bound, metal3 users hit its limit). Strictly in order: one
 * that fits never passes one that waits, so a large operation is not starved by small ones. One
 * larger than `maxNodes` alone runs alone, once it is first and nothing else runs
 * (see docs/decisions/0030-admission-queue.md).
 *
 * It only counts: the operation service says when an operation enters (its checks passed) and
 * when it ends; what waiting means for the operation (its status, log, metrics) is the service's.
 */
export class AdmissionQueue {
  /** Running operations -> their node counts. */
  readonly #running = new Map<string, number>();
  #runningNodes = 0;
  readonly #queue: Waiter[] = [];

  constructor(readonly bounds: AdmissionBounds) {}

  /**
   * An operation of `nodes` nodes asks to start. Undefined: it may start now (counted as running
   * from now on). Else it waits at the returned position (1-based), and `admitted` resolves when
   * it may start, or rejects with the signal's reason when `signal` aborts first (it then leaves
   * the queue, and the ones behind it move up). `moved` is told each new position. Already
   * aborted, it does not wait: position 0, `admitted` rejected.
   */
  enter(
    wid: string,
    nodes: number,
    signal: AbortSignal,
    moved: (position: number) => void,
  ): { position: number; admitted: Promise<void> } | undefined {
    if (this.#running.has(wid) || this.#queue.some((w) => w.wid === wid))
      throw new Error(`operation ${wid} entered the admission queue twice`);
    if (this.#queue.length === 0 && this.#fits(nodes)) {
      this.#take(wid, nodes);
      return undefined;
    }
    if (signal.aborted) return { position: 0, admitted: Promise.reject(signal.reason) };
    let waiter!: Waiter;
    const admitted = new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.#remove(waiter);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      waiter = {
        wid,
        nodes,
        admit: resolve,
        moved,
        forget: () => signal.removeEventListener('abort', onAbort),
      };
    });
    this.#queue.push(waiter);
    return { position: this.#queue.length, admitted };
  }

  /**
   * An operation that was already in flight before an engine restart (resumed, durable workflows):
   * counted as running at once, whatever the bounds, since it was admitted then.
   */
  adopt(wid: string, nodes: number): void {
    if (!this.#running.has(wid)) this.#take(wid, nodes);
  }

  /** The operation ended (or never started): its slot and nodes go to the next ones. Idempotent. */
  release(wid: string): void {
    const nodes = this.#running.get(wid);
    if (nodes === undefined) return;
    this.#running.delete(wid);
    this.#runningNodes -= nodes;
    if (this.#admitNext() > 0) this.#tellPositions(0);
  }

  /** The 1-based position of a waiting operation, undefined when it does not wait. */
  position(wid: string): number | undefined {
    const i = this.#queue.findIndex((w) => w.wid === wid);
    return i < 0 ? undefined : i + 1;
  }

  /** What is in flight and what waits (the log line of an operation that waits). */
  load(): { operations: number; nodes: number; waiting: number } {
    return { operations: this.#running.size, nodes: this.#runningNodes, waiting: this.#queue.length };
  }

  #fits(nodes: number): boolean {
    const { maxOperations, maxNodes } = this.bounds;
    if (maxOperations > 0 && this.#running.size >= maxOperations) return false;
    // Larger than the bound alone: it would never fit, so it runs alone (nothing else running).
    if (maxNodes > 0 && this.#runningNodes + nodes > maxNodes && this.#running.size > 0) return false;
    return true;
  }

  #take(wid: string, nodes: number): void {
    this.#running.set(wid, nodes);
    this.#runningNodes += nodes;
  }

  /** Admits the first ones while they fit, in order; returns how many. */
  #admitNext(): number {
    let admitted = 0;
    for (;;) {
      const head = this.#queue[0];
      if (!head || !this.#fits(head.nodes)) break;
      this.#queue.shift();
      head.forget();
      this.#take(head.wid, head.nodes);
      head.admit();
      admitted++;
    }
    return admitted;
  }

  #remove(w: Waiter): void {
    const i = this.#queue.indexOf(w);
    if (i < 0) return;
    this.#queue.splice(i, 1);
    w.forget();
    // A large first one left: the next ones may fit now (then all move up: i is 0).
    if (i === 0) this.#admitNext();
    this.#tellPositions(i);
  }

  #tellPositions(from: number): void {
    for (let i = from; i < this.#queue.length; i++) this.#queue[i]?.moved(i + 1);
  }
}
