import type Database from 'better-sqlite3';
import { html } from './html.js';
import { stateClass, when } from './layout.js';
import type { NodeLine } from './page-nodes.js';

interface HistoryRow {
  wid: string;
  operation: string;
  user: string;
  start: number;
  step1: string;
  step2: string;
  step3: string;
  step1_duration: number;
  step2_duration: number;
  step3_duration: number;
  retry_step1: number;
  retry_step2: number;
  retry_step3: number;
  env: string;
  success: number;
  error: string;
}

/** Rows shown in a node's history. */
const HISTORY = 30;

/** A node's last statistics rows, newest first (statistics are every user's to read, as kastat3's). */
export function nodeHistory(db: Database.Database, node: string): HistoryRow[] {
  return db
    .prepare(
      `SELECT wid, operation, user, start, step1, step2, step3, step1_duration, step2_duration, step3_duration,
              retry_step1, retry_step2, retry_step3, env, success, error
       FROM stats WHERE hostname = ? ORDER BY start DESC, id DESC LIMIT ?`,
    )
    .all(node, HISTORY) as HistoryRow[];
}

export function nodeBody(line: NodeLine, address: string, history: readonly HistoryRow[]) {
  const r = line.row;
  return html`<dl class="node-detail"><dt>Cluster</dt><dd>${line.cluster}</dd><dt>Address</dt><dd>${address}</dd>
<dt>State</dt><dd class="${stateClass(r.state)}">${r.state}</dd><dt>Environment</dt><dd>${r.env}${r.env_user ? ` (${r.env_user})` : ''}</dd>
<dt>User</dt><dd>${r.user}</dd><dt>Operation</dt><dd>${r.wid ? html`<a href="/ui/operations/${r.wid}">${r.wid}</a>` : ''}</dd>
${line.step ? html`<dt>Step</dt><dd>${line.step.macro ?? ''} ${line.step.micro ?? ''} (${line.step.state})</dd>` : ''}
<dt>Updated</dt><dd>${when(r.updated)}</dd></dl>
<h3>History</h3>
${
  history.length === 0
    ? html`<p>No statistics rows for this node.</p>`
    : html`<table class="history"><thead><tr><th>Start</th><th>Operation</th><th>User</th><th>Environment</th><th>Steps (s, retries)</th><th>Result</th><th>Error</th></tr></thead><tbody>
${history.map(
  (
    h,
  ) => html`<tr><td>${when(h.start * 1000)}</td><td><a href="/ui/operations/${h.wid}">${h.operation} ${h.wid}</a></td><td>${h.user}</td><td>${h.env}</td>
<td>${[
    [h.step1, h.step1_duration, h.retry_step1],
    [h.step2, h.step2_duration, h.retry_step2],
    [h.step3, h.step3_duration, h.retry_step3],
  ]
    .filter(([s]) => s)
    .map(([s, d, n]) => `${s} ${d}s${Number(n) > 0 ? ` (${n})` : ''}`)
    .join(
      ', ',
    )}</td><td class="${h.success ? 'st-ok' : 'st-ko'}">${h.success ? 'ok' : 'ko'}</td><td class="reason">${h.error}</td></tr>\n`,
)}</tbody></table>`
}`;
}
