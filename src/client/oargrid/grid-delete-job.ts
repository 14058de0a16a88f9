import { errorMessage } from '../../common/errors.js';
import type { GridStore } from './grid-store.js';
import { parseOardel } from './oar-output.js';
import type { SiteRunner } from './site-runner.js';

/**
 * `oardel N` on the site, recorded: `deleted`, or `delete-failed` with OAR's words, so that a job
 * that could not be deleted stays in the grid record (oargridstat shows it, oargriddel retries).
 */
export async function deleteSiteJob(
  site: string,
  run: SiteRunner,
  jobId: number,
  gridId: number,
  store: GridStore,
  signal?: AbortSignal,
): Promise<{ deleted: boolean; reason?: string }> {
  let reason: string;
  try {
    const r = await run(['oardel', String(jobId)], signal ? { signal } : {});
    const o = r.timedOut
      ? { kind: 'failed' as const, reason: 'oardel did not answer in time' }
      : parseOardel(jobId, r);
    if (o.kind === 'deleted') {
      store.setSiteJob(gridId, site, 'deleted');
      return { deleted: true };
    }
    reason = o.reason;
  } catch (e) {
    reason = errorMessage(e).replace(new RegExp(`^site ${site}: `), '');
  }
  store.setSiteJob(gridId, site, 'delete-failed', { message: `oardel ${jobId}: ${reason}` });
  return { deleted: false, reason };
}
