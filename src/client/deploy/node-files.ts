import { appendFileSync } from 'node:fs';
import type { OperationOutcome } from '../../api/operation-status.js';
import { KaployError } from '../../common/errors.js';

/** The -o/-n files of kadeploy3, kareboot3 and kapower3. */
export interface NodeFiles {
  outputOk?: string | undefined;
  outputKo?: string | undefined;
}

/** -o/-n must name different files (Kadeploy). */
export function checkNodeFiles(o: NodeFiles): void {
  if (o.outputOk && o.outputKo && o.outputOk === o.outputKo)
    throw new KaployError(
      'KAPLOY_CONFLICTING_OPTIONS',
      '-o/--output-ok-nodes and -n/--output-ko-nodes must name different files',
    );
}

/**
 * Appends the OK and KO nodes to the -o/-n files: Kadeploy opens them in append mode; both exist
 * afterwards even when empty, so scripts can `cat` them. Cancelled nodes were not done: KO file.
 */
export function appendNodeFiles(o: NodeFiles, outcomes: readonly OperationOutcome[]): void {
  const lines = (pick: (s: OperationOutcome['status']) => boolean) =>
    outcomes
      .filter((x) => pick(x.status))
      .map((x) => `${x.node}\n`)
      .join('');
  if (o.outputOk)
    appendFileSync(
      o.outputOk,
      lines((s) => s === 'ok'),
    );
  if (o.outputKo)
    appendFileSync(
      o.outputKo,
      lines((s) => s === 'ko' || s === 'cancelled'),
    );
}
