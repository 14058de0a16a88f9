import pMap from 'p-map';
import { deleteSiteJob } from './grid-delete-job.js';
import type { GridDeps } from './grid-status.js';
import { clearUnansweredSite } from './grid-unanswered.js';
import { runnerForConfig } from './site-access.js';

/** Without `jobId`: a site whose oarsub went unanswered, looked up by name (see grid-unanswered.ts). */
export interface DeleteOutcome {
  site: string;
  aliases: string[];
  jobId?: number;
  deleted: boolean;
  reason?: string;
}

/** oargriddel does not know a site's clock skew: a job of the grid's name this much older is another's. */
const UNANSWERED_MARGIN_S = 86_400;

/**
 * oargriddel ID: oardel of every site job still recorded as held (reserved, or a deletion that
 * failed before), and for a site whose oarsub went unanswered, of the jobs of the grid's name it
 * holds (looked up again). The grid is marked deleted only when every one went; otherwise it
 * stays, with each failure recorded, for another oargriddel.
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
  const { grid } = deps.store.mustGet(id);
  const known = new Set(sites.flatMap((s) => (s.batchId === undefined ? [] : [s.batchId])));
  const unanswered = await pMap(
    sites.filter((s) => s.state === 'unknown'),
    async (s): Promise<DeleteOutcome[]> => {
      const u = await clearUnansweredSite(s.site, runner(s.site), id, {
        notBeforeS: Math.floor(grid.submittedAt / 1000) - UNANSWERED_MARGIN_S,
        known,
        store: deps.store,
        ...(deps.signal ? { signal: deps.signal } : {}),
      });
      const base = { site: s.site, aliases: s.aliases };
      if (u.lookupFailed !== undefined) return [{ ...base, deleted: false, reason: u.lookupFailed }];
      if (u.jobs.length === 0) return [{ ...base, deleted: true }];
      return u.jobs.map((j) => ({ ...base, ...j }));
    },
    { concurrency: 8 },
  );
  const all = [...out, ...unanswered.flat()];
  if (all.every((o) => o.deleted)) deps.store.setGridState(id, 'deleted');
  return all;
}
