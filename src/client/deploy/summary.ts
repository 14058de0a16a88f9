import type { OperationOutcome } from '../../api/operation-status.js';

/** Kadeploy's end-of-run lists: successful nodes, nodes stopped at the breakpoint, failed nodes. */
export function renderSummary(outcomes: readonly OperationOutcome[], what = 'deployment'): string {
  const ok = outcomes.filter((x) => x.status === 'ok');
  const stopped = outcomes.filter((x) => x.status === 'breakpoint');
  const ko = outcomes.filter((x) => x.status === 'ko' || x.status === 'cancelled');
  let s = '';
  if (ok.length > 0) s += `\nThe ${what} is successful on nodes\n${ok.map((x) => `${x.node}\n`).join('')}`;
  if (stopped.length > 0) {
    s += `\nThe ${what} stopped at its breakpoint on nodes\n${stopped.map((x) => `${x.node} (${x.impl}-${x.micro})\n`).join('')}`;
  }
  if (ko.length > 0) {
    s += `\nThe ${what} failed on nodes\n${ko.map((x) => `${x.node} (${x.impl ?? '?'}-${x.micro ?? '?'}: ${x.reason ?? x.status})\n`).join('')}`;
  }
  return s;
}
