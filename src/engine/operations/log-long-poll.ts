import type { OperationLog } from './operation-log.js';

export interface LogPage {
  lines: string[];
  next: number;
  done: boolean;
}

/**
 * A long poll on an operation's log: reads from `from`; with nothing new for this reader yet, waits
 * for the next entry (or the end, or `signal`) and reads again, answering after `waitMs` at the
 * latest. `live` is the operation's log while the engine still holds it (undefined: answer now).
 * Entries this reader does not see (a higher verbosity) move `from` on without answering.
 */
export async function longPollLog(
  read: (from: number) => LogPage,
  live: () => OperationLog | undefined,
  from: number,
  waitMs: number,
  signal: AbortSignal,
): Promise<LogPage> {
  const until = Date.now() + waitMs;
  for (let at = from; ; ) {
    const page = read(at);
    const log = live();
    const left = until - Date.now();
    if (page.lines.length > 0 || page.done || !log || left <= 0 || signal.aborted) return page;
    at = page.next;
    await log.changed(left, signal);
  }
}
