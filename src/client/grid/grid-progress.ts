import type { OperationStatus } from '../../api/operation-status.js';
import { formatElapsed, nodeCounts, queuedAt } from '../deploy/progress-line.js';

/** How often the line is redrawn (the sites' statuses arrive on their own schedule). */
const REDRAW_MS = 1_000;

/**
 * kadeploy3 -M's live progress on a terminal: one line on stderr over every site,
 * `[1m05s] rennes: Deploy 3, ok 2, ko 0 | lyon: starting`. The sites' log lines are written
 * through `beforeLine`, which wipes the progress line first so it never mixes into the log; the
 * next redraw puts it back under them.
 */
export class GridProgress {
  readonly #err: NodeJS.WritableStream;
  readonly #sites = new Map<string, OperationStatus | undefined>();
  readonly #started: number;
  readonly #now: () => number;
  #shown = false;
  #drawnAt = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(err: NodeJS.WritableStream, sites: readonly string[], now: () => number = Date.now) {
    this.#err = err;
    this.#now = now;
    this.#started = now();
    for (const s of sites) this.#sites.set(s, undefined);
  }

  /** A site's news; redrawn at once unless the line was drawn less than a quarter second ago. */
  update(site: string, st: OperationStatus): void {
    this.#sites.set(site, st);
    if (this.#timer && this.#now() - this.#drawnAt >= REDRAW_MS / 4) this.draw();
  }

  line(): string {
    const parts = [...this.#sites].map(
      ([site, st]) => `${site}: ${!st ? 'starting' : st.status === 'queued' ? queuedAt(st) : nodeCounts(st)}`,
    );
    return `[${formatElapsed((this.#now() - this.#started) / 1000)}] ${parts.join(' | ')}`;
  }

  draw(): void {
    this.#err.write(`\r\x1b[K${this.line()}`);
    this.#shown = true;
    this.#drawnAt = this.#now();
  }

  /** Wipes the line before other output; the next redraw shows it again. */
  beforeLine(): void {
    if (!this.#shown) return;
    this.#err.write('\r\x1b[K');
    this.#shown = false;
  }

  start(): void {
    this.draw();
    this.#timer = setInterval(() => this.draw(), REDRAW_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.beforeLine();
  }
}
