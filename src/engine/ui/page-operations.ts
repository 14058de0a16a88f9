import type { NodeStateView, OperationStatus } from '../../api/operation-status.js';
import type { AuthenticatedUser } from '../auth/authenticate.js';
import type { OperationService } from '../operations/operation-service.js';
import type { EngineContext } from '../server/context.js';
import { html } from './html.js';
import { stateClass, when } from './layout.js';
import { kindOfWid, UI_KINDS } from './operation-kinds.js';

/** Operations listed at most (the newest), so the page costs the same on a site of ten years. */
const RECENT = 100;

/**
 * The caller's operations, newest first: the workflow rows read, then each one's status asked of
 * the operation service, which applies the API's visibility (an admin sees every user's).
 */
export function visibleOperations(
  ctx: EngineContext,
  svc: OperationService,
  caller: AuthenticatedUser,
): OperationStatus[] {
  const rows = ctx.store.workflows.recent(
    UI_KINDS.map((k) => k.name),
    RECENT,
    caller.admin ? undefined : caller.name,
  );
  const out: OperationStatus[] = [];
  for (const r of rows) {
    try {
      out.push(svc.status(caller, kindOfWid(r.wid), r.wid));
    } catch {
      // Not the caller's to see (or gone): left out, as GET /<kind>/:wid would refuse it.
    }
  }
  return out;
}

function progress(st: OperationStatus): string {
  const views = Object.values(st.nodes);
  const count = (s: NodeStateView['state']) => views.filter((v) => v.state === s).length;
  return `${count('ok')} ok, ${count('ko')} ko, ${count('running')} running, ${count('waiting')} waiting / ${views.length}`;
}

export function operationsBody(ops: readonly OperationStatus[]) {
  if (ops.length === 0) return html`<p>No operations.</p>`;
  return html`<table class="ops"><thead><tr><th>Operation</th><th>Kind</th><th>User</th><th>Environment</th><th>Status</th><th>Nodes</th><th>Started</th><th>Finished</th></tr></thead><tbody>
${ops.map(
  (o) =>
    html`<tr><td><a href="/ui/operations/${o.wid}">${o.wid}</a></td><td>${o.kind}</td><td>${o.user}</td><td>${o.environment ?? ''}</td><td class="${stateClass(o.status)}">${o.status}</td><td>${progress(o)}</td><td>${when(o.startedAt)}</td><td>${when(o.finishedAt)}</td></tr>\n`,
)}</tbody></table>`;
}
