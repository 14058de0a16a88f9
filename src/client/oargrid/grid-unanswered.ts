import { errorMessage } from '../../common/errors.js';
import { deleteSiteJob } from './grid-delete-job.js';
import type { GridStore } from './grid-store.js';
import { parseNamedJobs } from './oar-output.js';
import type { SiteRunner } from './site-runner.js';

/**
 * What a site whose oarsub went unanswered turned out to hold. `jobs`: the jobs found by name and
 * what their deletion did; none found: `jobs` empty, `lookupFailed` absent; the lookup itself
 * failing: `lookupFailed` says what to check by hand.
 */
export interface UnansweredOutcome {
  jobs: { jobId: number; deleted: boolean; reason?: string }[];
  lookupFailed?: string;
}

/**
 * An oarsub that did not answer in time may have made its job all the same (a hung ssh, a
 * scheduler slow to validate). The site is asked for the jobs of the name the submission gave
 * (`-n oargrid-ID`), submitted at `notBeforeS` (its clock) or later, and those are deleted. Jobs of
 * `known` (made by the grid's other sites: two configured sites may be one OAR, which lists them
 * all) are left out. The record follows: the job deleted, `refused` when there was none, still
 * `unknown` with the hand check when the lookup failed.
 */
export async function clearUnansweredSite(
  site: string,
  run: SiteRunner,
  gridId: number,
  o: { notBeforeS: number; known: ReadonlySet<number>; store: GridStore; signal?: AbortSignal },
): Promise<UnansweredOutcome> {
  const name = `oargrid-${gridId}`;
  let ids: number[];
  try {
    // The grid id is a number: the SQL text holds nothing from the user.
    const r = await run(
      ['oarstat', '--sql', `job_name = '${name}'`, '-J'],
      o.signal ? { signal: o.signal } : {},
    );
    if (r.timedOut) throw new Error('oarstat did not answer in time either');
    ids = parseNamedJobs(site, name, o.notBeforeS, r).filter((id) => !o.known.has(id));
  } catch (e) {
    const why = errorMessage(e).replace(new RegExp(`^site ${site}: `), '');
    const lookupFailed = `its job could not be looked up (${why}); check with oarstat --sql "job_name = '${name}'" on ${site} and oardel what it lists`;
    o.store.setSiteJob(gridId, site, 'unknown', {
      message: `oarsub did not answer in time; ${lookupFailed}`,
    });
    return { jobs: [], lookupFailed };
  }
  if (ids.length === 0) {
    o.store.setSiteJob(gridId, site, 'refused', {
      message: `oarsub did not answer in time; no job named ${name} on the site afterwards`,
    });
    return { jobs: [] };
  }
  const jobs: UnansweredOutcome['jobs'] = [];
  for (const jobId of ids) {
    o.store.setSiteJob(gridId, site, 'reserved', { batchId: jobId });
    jobs.push({ jobId, ...(await deleteSiteJob(site, run, jobId, gridId, o.store, o.signal)) });
  }
  return { jobs };
}
