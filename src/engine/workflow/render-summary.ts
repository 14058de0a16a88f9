import type { NodeOutcome } from './types.js';

const byName = (a: NodeOutcome, b: NodeOutcome) => a.node.localeCompare(b.node, 'en', { numeric: true });
const where = (o: NodeOutcome) => `${o.impl ?? o.macro ?? '?'}-${o.micro ?? '?'}`;

/**
 * The end-of-deployment report, as kadeploy3 prints it (reference §1):
 *   The deployment is successful on nodes / <node>...
 *   The deployment failed on nodes / <node> (<Impl>-<micro>: <reason>)...
 * plus two sections of our own, for nodes stopped at the breakpoint (where, so they can be resumed)
 * and nodes cancelled. Nodes are sorted by name, numbers compared as numbers. Empty sections are omitted.
 */
export function renderSummary(outcomes: readonly NodeOutcome[]): string[] {
  const sorted = [...outcomes].sort(byName);
  const pick = (s: NodeOutcome['status']) => sorted.filter((o) => o.status === s);
  const out: string[] = [];
  const section = (title: string, list: NodeOutcome[], line: (o: NodeOutcome) => string) => {
    if (list.length === 0) return;
    out.push(title, ...list.map(line));
  };
  section('The deployment is successful on nodes', pick('ok'), (o) => o.node);
  section(
    'The deployment reached the breakpoint on nodes',
    pick('breakpoint'),
    (o) => `${o.node} (${where(o)})`,
  );
  section(
    'The deployment failed on nodes',
    pick('ko'),
    (o) => `${o.node} (${where(o)}: ${o.reason ?? 'unknown error'})`,
  );
  section('The deployment was cancelled on nodes', pick('cancelled'), (o) => `${o.node} (${where(o)})`);
  return out;
}
