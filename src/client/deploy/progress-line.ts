import type { OperationStatus } from '../../api/operation-status.js';

/**
 * One-line live progress for a terminal: how many nodes are in each macro-step, done, failed.
 * Written to stderr with \r so it never mixes into the log on stdout; plain output (not a TTY)
 * shows no progress line at all.
 */
export function progressLine(st: OperationStatus, elapsedS: number): string {
  // Queued by the site's admission control: no node moves yet, its place in the queue does.
  const where = st.status === 'queued' ? queuedAt(st) : nodeCounts(st);
  return `[${formatElapsed(elapsedS)}] ${Object.keys(st.nodes).length} nodes: ${where}`;
}

/** `queued (position N)`: an operation waiting for admission control, N = 1 starts next. */
export function queuedAt(st: Pick<OperationStatus, 'queuePosition'>): string {
  return st.queuePosition ? `queued (position ${st.queuePosition})` : 'queued';
}

/** `Macro n, ..., ok n, ko n`: how many of the operation's nodes are where. */
export function nodeCounts(st: OperationStatus): string {
  const counts = new Map<string, number>();
  let ok = 0;
  let ko = 0;
  for (const v of Object.values(st.nodes)) {
    if (v.state === 'ok') ok++;
    else if (v.state === 'ko') ko++;
    else {
      const k = v.macro ?? v.state;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
  }
  const running = [...counts.entries()].map(([k, n]) => `${k} ${n}`).join(', ');
  return `${running ? `${running}, ` : ''}ok ${ok}, ko ${ko}`;
}

export function formatElapsed(s: number): string {
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s` : `${Math.floor(s)}s`;
}
