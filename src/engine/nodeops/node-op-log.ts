import { OperationLog } from '../operations/operation-log.js';

/** Level given to per-node debug lines (-d): shown with -d whatever the verbosity, never without. */
const DEBUG_LEVEL = 100;

/**
 * The log of a reboot or power operation: plain lines at Kadeploy's verbosity levels, plus per-node
 * debug lines (`  [node] text`) that only -d shows. The node map serves the progress line.
 */
export class NodeOpLog extends OperationLog {
  debugLine(node: string, text: string): void {
    this.line(DEBUG_LEVEL, `  [${node}] ${text}`);
  }

  override read(from: number, verbosity: number, debug: boolean): { lines: string[]; next: number } {
    const lines: string[] = [];
    const end = this.entries.length;
    for (let i = Math.max(0, from); i < end; i++) {
      const e = this.entries[i];
      if (e?.kind !== 'line') continue;
      if (e.level === DEBUG_LEVEL ? debug : verbosity >= e.level) lines.push(e.text);
    }
    return { lines, next: end };
  }
}
