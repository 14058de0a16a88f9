import { appendFileSync } from 'node:fs';
import type { OperationOutcome } from '../../api/operation-status.js';
import { KaployError } from '../../common/errors.js';

/** -o/-n must name different files (Kadeploy). */
export function checkNodeFiles(ok?: string, ko?: string): void {
  if (ok && ko && ok === ko)
    throw new KaployError(
      'KAPLOY_CONFLICTING_OPTIONS',
      '-o/--output-ok-nodes and -n/--output-ko-nodes must name different files',
    );
}

/** Appends the OK and KO nodes to the -o/-n files (Kadeploy opens them in append mode). */
export function appendNodeFiles(outcomes: readonly OperationOutcome[], ok?: string, ko?: string): void {
  const lines = (pick: (s: OperationOutcome['status']) => boolean) =>
    outcomes
      .filter((x) => pick(x.status))
      .map((x) => `${x.node}\n`)
      .join('');
  if (ok)
    appendFileSync(
      ok,
      lines((s) => s === 'ok'),
    );
  if (ko)
    appendFileSync(
      ko,
      lines((s) => s === 'ko' || s === 'cancelled'),
    );
}
