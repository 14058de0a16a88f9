import type { LogPage, OperationStatus } from '../../api/operation-status.js';
import { html } from './html.js';
import { stateClass, when } from './layout.js';

/** One node's line: its state, macro- and micro-step, and why it failed. */
function nodeRow(node: string, v: OperationStatus['nodes'][string]) {
  return html`<tr data-node="${node}"><td><a href="/ui/nodes/${node}">${node}</a></td><td class="state ${stateClass(v.state)}">${v.state}</td><td class="macro">${v.macro ?? ''}</td><td class="micro">${v.micro ?? ''}</td><td class="reason">${v.error ?? ''}</td></tr>\n`;
}

/**
 * An operation: its nodes' progress through the steps, a KO node's step and reason, and its log at
 * the chosen verbosity. Readable as it is; live.js follows the event stream from `next` on.
 */
export function operationBody(st: OperationStatus, log: LogPage, verbosity: number) {
  const nodes = Object.entries(st.nodes).sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }));
  const live = (st.status === 'running' || st.status === 'preparing' || st.status === 'queued') && !log.done;
  return html`<dl class="op" id="op" data-wid="${st.wid}" data-live="${live ? 'yes' : 'no'}" data-next="${log.next}" data-verbosity="${verbosity}">
<dt>Kind</dt><dd>${st.kind}</dd><dt>User</dt><dd>${st.user}</dd>
${st.environment ? html`<dt>Environment</dt><dd>${st.environment}</dd>` : ''}
<dt>Status</dt><dd id="op-status" class="${stateClass(st.status)}">${st.status}</dd>
<dt>Started</dt><dd>${when(st.startedAt)}</dd><dt>Finished</dt><dd id="op-finished">${when(st.finishedAt)}</dd>
${st.error ? html`<dt>Error</dt><dd class="error">${st.error.code}: ${st.error.message}</dd>` : ''}
</dl>
<table class="nodes-progress"><thead><tr><th>Node</th><th>State</th><th>Macro-step</th><th>Micro-step</th><th>Reason</th></tr></thead>
<tbody id="op-nodes">${nodes.map(([n, v]) => nodeRow(n, v))}</tbody></table>
<h3>Log</h3>
<form method="get" class="verbosity"><label>Verbosity <select name="verbosity">${[0, 1, 2, 3, 4, 5].map(
    (v) => html`<option value="${v}"${v === verbosity ? html` selected` : ''}>${v}</option>`,
  )}</select></label> <button type="submit">Show</button></form>
<pre id="op-log">${log.lines.map((l) => `${l}\n`)}</pre>`;
}
