import type { NodeStateView } from '../../api/operation-status.js';
import type { WorkflowEvent } from '../workflow/events.js';
import { renderEvent } from '../workflow/render-event.js';

/** Level given to per-node debug lines (-d): shown with -d whatever the verbosity, never without. */
const DEBUG_LEVEL = 100;

/**
 * The log of one operation in the engine, whatever its kind: workflow events (deployments; rendered
 * on demand at the reader's verbosity, so one run serves kadeploy3 -V 0 and -V 5 alike), plain lines
 * at Kadeploy's verbosity levels, per-node debug lines (`  [node] text`) that only -d shows, and
 * each node's current step (the progress line).
 */
export type LogEntry = { kind: 'line'; level: number; text: string } | { kind: 'event'; ev: WorkflowEvent };

export class OperationLog {
  readonly entries: LogEntry[] = [];
  readonly nodes = new Map<string, NodeStateView>();
  done = false;
  readonly #waiters = new Set<() => void>();

  /**
   * `base`: the number of the first entry. The log of an operation an engine restart resumed
   * starts far above any entry of the log before (lost with the engine): a reader still at a
   * number of that one is below `base` and reads this one from its start.
   */
  constructor(
    nodes: readonly string[],
    readonly base = 0,
  ) {
    for (const n of nodes) this.nodes.set(n, { state: 'waiting' });
  }

  /** The number the next entry will have: where a reader that read everything continues. */
  get end(): number {
    return this.base + this.entries.length;
  }

  line(level: number, text: string): void {
    this.entries.push({ kind: 'line', level, text });
    this.#notify();
  }

  debugLine(node: string, text: string): void {
    this.line(DEBUG_LEVEL, `  [${node}] ${text}`);
  }

  event(ev: WorkflowEvent): void {
    this.entries.push({ kind: 'event', ev });
    this.#notify();
    switch (ev.kind) {
      case 'micro_start':
        for (const n of ev.nodes) this.nodes.set(n, { macro: ev.macro, micro: ev.micro, state: 'running' });
        break;
      case 'nodes_ko':
        for (const n of ev.nodes)
          this.nodes.set(n, { macro: ev.macro, micro: ev.micro, state: 'ko', error: ev.reason });
        break;
      case 'breakpoint':
        for (const n of ev.nodes)
          this.nodes.set(n, { macro: ev.macro, micro: ev.micro, state: 'breakpoint' });
        break;
      case 'cancelled':
        // Taken by another deployment (--force): final now, while the others go on.
        if (ev.reason !== undefined)
          for (const n of ev.nodes)
            this.nodes.set(n, { macro: ev.macro, micro: ev.micro, state: 'cancelled', error: ev.reason });
        break;
      default:
        break;
    }
  }

  /** The end of the operation: each node's final view, then readers hear it is over. */
  finish(views: Iterable<[string, NodeStateView]>): void {
    for (const [node, view] of views) this.nodes.set(node, view);
    this.done = true;
    this.#notify();
  }

  /**
   * Resolves at the next entry or at the end of the operation, after `ms` at the latest, or when
   * `signal` aborts: lets a reader wait for news (a long poll) instead of polling on a timer.
   */
  changed(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
      if (this.done || signal?.aborted) done();
    });
  }

  #notify(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** Rendered lines from entry `from` on; `next` is where the reader continues. */
  read(from: number, verbosity: number, debug: boolean): { lines: string[]; next: number } {
    const lines: string[] = [];
    const end = this.entries.length;
    for (let i = Math.max(0, from - this.base); i < end; i++) {
      const e = this.entries[i];
      if (!e) continue;
      if (e.kind === 'line') {
        if (e.level === DEBUG_LEVEL ? debug : verbosity >= e.level) lines.push(e.text);
      } else {
        lines.push(...renderEvent(e.ev, verbosity, { debug }));
      }
    }
    return { lines, next: this.base + end };
  }
}
