import { appendFileSync } from 'node:fs';
import type { OperationOutcome } from '../../api/operation-status.js';

/**
 * -o/-n over every site: Kadeploy opens them in append mode; both files exist afterwards even
 * when empty, so scripts can `cat` them. Cancelled nodes are not deployed: they go to the KO file.
 */
export function appendNodeFiles(
  o: { outputOk?: string | undefined; outputKo?: string | undefined },
  outcomes: readonly OperationOutcome[],
): void {
  const lines = (pred: (x: OperationOutcome) => boolean) =>
    outcomes
      .filter(pred)
      .map((x) => `${x.node}\n`)
      .join('');
  if (o.outputOk)
    appendFileSync(
      o.outputOk,
      lines((x) => x.status === 'ok'),
    );
  if (o.outputKo)
    appendFileSync(
      o.outputKo,
      lines((x) => x.status === 'ko' || x.status === 'cancelled'),
    );
}
