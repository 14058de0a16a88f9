import pMap from 'p-map';
import { errorMessage, isKaployError, type KaployErrorCode } from '../../common/errors.js';
import { deleteSiteJob } from './grid-delete-job.js';
import type { GridRequest } from './grid-description.js';
import { copyKeyTo, makeGridKey, remoteKeyPath, removeRemoteKey } from './grid-key.js';
import { formatWalltime, type GridSubmitOptions } from './grid-options.js';
import { planSites, resourceRequest, type SitePlan } from './grid-plan.js';
import type { GridState, GridStore } from './grid-store.js';
import { clearUnansweredSite } from './grid-unanswered.js';
import { parseOarsub } from './oar-output.js';
import type { OargridConfig } from './oargrid-config.js';
import { type RunnerFor, runnerForConfig } from './site-access.js';
import { measureClock, siteStartText } from './site-clock.js';
import type { SiteRunner } from './site-runner.js';

export type SiteOutcome = {
  site: string;
  aliases: string[];
} /** ownKey: the job's own key, when its OAR already held the grid key in another job. */ & (
  | { kind: 'reserved'; jobId: number; skewS: number; ownKey?: string }
  | { kind: 'refused'; code: KaployErrorCode; reason: string; jobId?: number }
  /**
   * oarsub did not answer in time: a job may exist on the site, unknown to us (looked up by its
   * name at the end, see clearUnanswered). `notBeforeS`: the site's clock just before it was asked.
   */
  | { kind: 'unknown'; reason: string; notBeforeS: number }
);

/**
 * One job deleted (or not) at the end of a failed submission. Without `jobId`: a site whose oarsub
 * went unanswered, looked up by the job's name: `deleted` when no such job exists there, else
 * `reason` says why the lookup failed (the user checks it).
 */
export interface RollbackOutcome {
  site: string;
  jobId?: number;
  deleted: boolean;
  reason?: string;
}

export interface SubmitResult {
  gridId: number;
  keyFile: string;
  sites: SiteOutcome[];
  /**
   * Without -F, what was deleted because a site refused (empty when every site accepted); with it,
   * what a site whose oarsub went unanswered turned out to hold, deleted.
   */
  rollback: RollbackOutcome[];
  state: GridState;
}

export interface SubmitDeps {
  config: OargridConfig;
  store: GridStore;
  /** How a site's commands run; default: siteRunner (local spawn or ssh). */
  runnerFor?: RunnerFor;
  signal?: AbortSignal;
  now?: () => number;
}

/** OAR 2.5.9's oarsub when a job it holds already has the key. */
const SAME_KEY = /Another job is using the same ssh keys/;

/** Sites asked at once: each is one ssh connection and one oarsub waiting for its scheduler. */
const SITE_CONCURRENCY = 8;

/**
 * oargridsub: one advance reservation per site, all starting at the same instant (each site's
 * clock skew and time zone corrected), all sharing one job key. All or nothing unless
 * options.keepPartial (-F): when a site refuses, the jobs other sites made are deleted, and a
 * deletion that fails is reported with the grid record kept (oargriddel finishes it).
 * Per-site outcomes are values; only bad input (unknown alias) throws before anything is asked.
 */
export async function submitGrid(
  requests: readonly GridRequest[],
  options: GridSubmitOptions,
  deps: SubmitDeps,
): Promise<SubmitResult> {
  const plans = planSites(requests, deps.config);
  const now = deps.now ?? Date.now;
  const { store, signal } = deps;
  const runnerFor = runnerForConfig(deps.config, deps.runnerFor);
  const submittedAt = now();
  const startAt = options.startMs ?? submittedAt;
  const gridId = store.createGrid(
    {
      submittedAt,
      startAt,
      walltimeS: options.walltimeS,
      types: options.types,
      description: requests.map(describeRequest).join(','),
    },
    plans.map((p) => ({ site: p.site, aliases: p.requests.map((r) => r.alias) })),
  );
  const keyFile = await makeGridKey(store.dir, gridId, signal);
  store.setKeyFile(gridId, keyFile);
  const sites = await pMap(
    plans,
    (plan, i) =>
      submitSite(plan, runnerFor(plan.site), {
        gridId,
        keyFile,
        startAt,
        options,
        store,
        withProgram: i === 0,
        ...(signal ? { signal } : {}),
      }),
    { concurrency: SITE_CONCURRENCY },
  );
  const failed = sites.some((s) => s.kind !== 'reserved');
  const keep = options.keepPartial && sites.some((s) => s.kind === 'reserved') && !signal?.aborted;
  let rollback: RollbackOutcome[] = [];
  let state: GridState = 'reserved';
  if (failed && !keep) {
    // Not under the user's signal: an interrupted submission must still delete what it made.
    rollback = await rollBack(plans, sites, runnerFor, gridId, store);
    state = 'failed';
  } else if (failed) {
    // -F keeps the sites that answered; one that did not may still hold a job nobody knows of.
    rollback = await clearUnanswered(sites, runnerFor, gridId, store);
  }
  store.setGridState(gridId, state);
  return { gridId, keyFile, sites, rollback, state };
}

/** The description as recorded (and shown by oargridstat), in oargridsub's own syntax. */
function describeRequest(r: GridRequest): string {
  return `${r.alias}:rdef="${r.rdef}"${r.prop === undefined ? '' : `:prop="${r.prop}"`}`;
}

interface SiteContext {
  gridId: number;
  keyFile: string;
  startAt: number;
  options: GridSubmitOptions;
  store: GridStore;
  withProgram: boolean;
  signal?: AbortSignal;
}

async function submitSite(plan: SitePlan, run: SiteRunner, ctx: SiteContext): Promise<SiteOutcome> {
  const { site } = plan;
  const aliases = plan.requests.map((r) => r.alias);
  const { options, signal } = ctx;
  const ssh = plan.access.kind === 'ssh';
  const copied: string[] = [];
  try {
    const clock = await measureClock(site, run, signal);
    // A job OAR made for this submission was submitted at this site time or later (1 min margin).
    const notBeforeS = Math.floor(Date.now() / 1000 + clock.skewS) - 60;
    const submit = async (keyFile: string) => {
      const remote = ssh ? remoteKeyPath(keyFile) : undefined;
      if (remote !== undefined) {
        copied.push(remote);
        await copyKeyTo(run, site, keyFile, remote, signal);
      }
      const argv = [
        'oarsub',
        '-r',
        siteStartText(ctx.startAt, clock),
        ...options.types.flatMap((t) => ['-t', t]),
        '-l',
        resourceRequest(plan, formatWalltime(options.walltimeS)),
        '-n',
        `oargrid-${ctx.gridId}`,
        ...(options.queue === undefined ? [] : ['-q', options.queue]),
        '-k',
        '-i',
        remote ?? keyFile,
        ...(ctx.withProgram && options.program !== undefined ? [options.program] : []),
      ];
      return run(argv, signal ? { signal } : {});
    };
    let keyFile = ctx.keyFile;
    let r = await submit(keyFile);
    if (!r.timedOut && r.code !== 0 && SAME_KEY.test(r.stderr)) {
      // Two sites of the configuration are one OAR server (clusters standing in for sites): OAR
      // refuses one key in two of its jobs, so this site's job gets a key of its own.
      keyFile = await makeGridKey(ctx.store.dir, ctx.gridId, signal, site);
      r = await submit(keyFile);
    }
    if (r.timedOut) {
      const reason = `oarsub did not answer in time; a job named oargrid-${ctx.gridId} may exist on ${site} (oarstat --sql "job_name='oargrid-${ctx.gridId}'")`;
      ctx.store.setSiteJob(ctx.gridId, site, 'unknown', { message: reason });
      return { site, aliases, kind: 'unknown', reason, notBeforeS };
    }
    const o = parseOarsub(site, r);
    if (o.kind === 'reserved') {
      const ownKey = keyFile === ctx.keyFile ? undefined : keyFile;
      ctx.store.setSiteJob(ctx.gridId, site, 'reserved', {
        batchId: o.jobId,
        ...(ownKey === undefined ? {} : { message: `own job key ${ownKey}` }),
      });
      return {
        site,
        aliases,
        kind: 'reserved',
        jobId: o.jobId,
        skewS: clock.skewS,
        ...(ownKey ? { ownKey } : {}),
      };
    }
    ctx.store.setSiteJob(ctx.gridId, site, 'refused', {
      message: o.reason,
      ...(o.jobId === undefined ? {} : { batchId: o.jobId }),
    });
    return {
      site,
      aliases,
      kind: 'refused',
      code: 'KAPLOY_OAR',
      reason: o.reason,
      ...(o.jobId === undefined ? {} : { jobId: o.jobId }),
    };
  } catch (e) {
    const reason = errorMessage(e).replace(new RegExp(`^site ${site}: `), '');
    ctx.store.setSiteJob(ctx.gridId, site, 'refused', { message: reason });
    return { site, aliases, kind: 'refused', code: isKaployError(e) ? e.code : 'KAPLOY_INTERNAL', reason };
  } finally {
    for (const remote of copied) await removeRemoteKey(run, remote);
  }
}

async function rollBack(
  plans: SitePlan[],
  sites: SiteOutcome[],
  runnerFor: (site: string) => SiteRunner,
  gridId: number,
  store: GridStore,
): Promise<RollbackOutcome[]> {
  const made = sites.flatMap((s, i) => {
    const jobId = s.kind === 'reserved' || s.kind === 'refused' ? s.jobId : undefined;
    return jobId === undefined ? [] : [{ plan: plans[i] as SitePlan, jobId }];
  });
  const deleted = await pMap(
    made,
    async ({ plan, jobId }): Promise<RollbackOutcome> => {
      const d = await deleteSiteJob(plan.site, runnerFor(plan.site), jobId, gridId, store);
      return { site: plan.site, jobId, ...d };
    },
    { concurrency: SITE_CONCURRENCY },
  );
  return [...deleted, ...(await clearUnanswered(sites, runnerFor, gridId, store))];
}

/** Each site whose oarsub went unanswered, cleared (clearUnansweredSite), as rollback outcomes. */
async function clearUnanswered(
  sites: SiteOutcome[],
  runnerFor: (site: string) => SiteRunner,
  gridId: number,
  store: GridStore,
): Promise<RollbackOutcome[]> {
  const known = new Set(
    sites.flatMap((s) => (s.kind === 'unknown' || s.jobId === undefined ? [] : [s.jobId])),
  );
  const unanswered = sites.flatMap((s) => (s.kind === 'unknown' ? [s] : []));
  const out = await pMap(
    unanswered,
    async (s): Promise<RollbackOutcome[]> => {
      const u = await clearUnansweredSite(s.site, runnerFor(s.site), gridId, {
        notBeforeS: s.notBeforeS,
        known,
        store,
      });
      if (u.lookupFailed !== undefined) return [{ site: s.site, deleted: false, reason: u.lookupFailed }];
      if (u.jobs.length === 0) return [{ site: s.site, deleted: true }];
      return u.jobs.map((j) => ({ site: s.site, ...j }));
    },
    { concurrency: SITE_CONCURRENCY },
  );
  return out.flat();
}
