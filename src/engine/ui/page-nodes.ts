import type { NodeStateView } from '../../api/operation-status.js';
import { nodeIndex } from '../../common/site-config.js';
import type { AuthenticatedUser } from '../auth/authenticate.js';
import type { OperationService } from '../operations/operation-service.js';
import type { EngineContext } from '../server/context.js';
import type { NodeRow } from '../store/nodes-repo.js';
import { html } from './html.js';
import { stateClass } from './layout.js';
import { kindOfWid } from './operation-kinds.js';

export interface NodeLine {
  row: NodeRow;
  cluster: string;
  /** Its step in its current operation, when that runs and the caller may read it. */
  step?: NodeStateView;
}

/**
 * The site's nodes as GET /nodes shows them to anyone, each with its step in the operation it is
 * in when the operation service lets the caller read that operation (its owner, or an admin).
 */
export function nodeLines(ctx: EngineContext, svc: OperationService, caller: AuthenticatedUser): NodeLine[] {
  const index = nodeIndex(ctx.config);
  const statuses = new Map<string, Record<string, NodeStateView> | undefined>();
  const stepOf = (wid: string, node: string): NodeStateView | undefined => {
    if (!wid) return undefined;
    if (!statuses.has(wid)) {
      try {
        const st = svc.status(caller, kindOfWid(wid), wid);
        statuses.set(wid, st.status === 'running' ? st.nodes : undefined);
      } catch {
        statuses.set(wid, undefined);
      }
    }
    return statuses.get(wid)?.[node];
  };
  return ctx.store.nodes
    .list()
    .filter((r) => index.has(r.name))
    .map((row) => {
      const step = stepOf(row.wid, row.name);
      return { row, cluster: index.get(row.name)?.cluster ?? '', ...(step ? { step } : {}) };
    });
}

const byName = (a: NodeLine, b: NodeLine) => a.row.name.localeCompare(b.row.name, 'en', { numeric: true });

/** The nodes at a glance, grouped by cluster, coloured by state. */
export function nodesBody(lines: readonly NodeLine[]) {
  const clusters = [...new Set(lines.map((l) => l.cluster))].sort();
  const states = [...new Set(lines.map((l) => l.row.state))].sort();
  return html`<p class="legend">${states.map(
    (s) =>
      html`<span class="chip ${stateClass(s)}">${s}: ${lines.filter((l) => l.row.state === s).length}</span> `,
  )}</p>
${clusters.map((c) => {
  const mine = lines.filter((l) => l.cluster === c).sort(byName);
  return html`<section class="cluster"><h3>${c} <small>${mine.length} nodes</small></h3><div class="grid">
${mine.map(
  (
    l,
  ) => html`<a class="node ${stateClass(l.row.state)}" href="/ui/nodes/${l.row.name}" title="${l.row.name}: ${l.row.state}">
<b>${l.row.name}</b><span>${l.row.state}</span><span>${l.row.env}</span><span>${l.row.user}</span>${
    l.row.wid ? html`<span class="wid">${l.row.wid}</span>` : ''
  }${l.step ? html`<span class="step">${l.step.macro ?? ''} ${l.step.micro ?? ''}</span>` : ''}</a>\n`,
)}</div></section>`;
})}`;
}
