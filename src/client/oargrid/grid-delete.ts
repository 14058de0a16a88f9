import pMap from 'p-map';
import { deleteSiteJob } from './grid-delete-job.js';
import type { GridDeps } from './grid-status.js';
import { runnerForConfig } from './site-access.js';

export interface DeleteOutcome {
  site: string;
  aliases: string[];
  jobId: number;
  deleted: boolean;
  reason?: string;
}

/**
 * oargriddel ID: oardel of every site job still recorded as held (reserved, or a deletion that
 * failed before). The grid is marked deleted only when every one went; otherwise it stays, with
 * each failure recorded, for another oargriddel.
 */
export async function deleteGrid(id: number, deps: GridDeps): Promise<DeleteOutcome[]> {
  const { sites } = deps.store.mustGet(id);
  const runner = runnerForConfig(deps.config, deps.runnerFor);
  const held = sites.filter(
    (s) => s.batchId !== undefined && (s.state === 'reserved' || s.state === 'delete-failed'),
  );
  const out = await pMap(
    held,
    async (s): Promise<DeleteOutcome> => {
      const jobId = s.batchId as number;
      const d = await deleteSiteJob(s.site, runner(s.site), jobId, id, deps.store, deps.signal);
      return { site: s.site, aliases: s.aliases, jobId, ...d };
    },
    { concurrency: 8 },
  );
  if (out.every((o) => o.deleted)) deps.store.setGridState(id, 'deleted');
  return out;
}
