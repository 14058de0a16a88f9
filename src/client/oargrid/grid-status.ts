import pMap from 'p-map';
import { errorMessage, KaployError } from '../../common/errors.js';
import type { GridRecord, GridStore, SiteJobRecord } from './grid-store.js';
import { parseOarstatState, parseResourceHosts } from './oar-output.js';
import type { OargridConfig } from './oargrid-config.js';
import { type RunnerFor, runnerForConfig } from './site-access.js';

export interface GridDeps {
  config: OargridConfig;
  store: GridStore;
  runnerFor?: RunnerFor;
  signal?: AbortSignal;
}

/** A site job as recorded, with what its OAR says now. */
export interface SiteJobStatus extends SiteJobRecord {
  /** OAR's state (Waiting, Running, Error, Terminated...); absent: not asked or not known there. */
  oarState?: string;
  /** Why oarState is absent when OAR was asked (unknown job, site unreachable, garbage). */
  problem?: string;
}

const SITE_CONCURRENCY = 8;

/** The site jobs OAR is asked about: those that were made and not refused. */
const live = (s: SiteJobRecord) =>
  s.batchId !== undefined && (s.state === 'reserved' || s.state === 'delete-failed' || s.state === 'deleted');

/** oargridstat ID: the record, each site job's state asked of its OAR (all sites at once). */
export async function gridStatus(
  id: number,
  deps: GridDeps,
): Promise<{ grid: GridRecord; sites: SiteJobStatus[] }> {
  const { grid, sites } = deps.store.mustGet(id);
  const runner = runnerForConfig(deps.config, deps.runnerFor);
  const signal = deps.signal;
  const out = await pMap(
    sites,
    async (s): Promise<SiteJobStatus> => {
      if (!live(s)) return s;
      const jobId = s.batchId as number;
      try {
        const r = await runner(s.site)(['oarstat', '-fj', String(jobId), '-J'], signal ? { signal } : {});
        const state = parseOarstatState(s.site, jobId, r);
        return state === undefined
          ? { ...s, problem: `job ${jobId} unknown to the site's OAR` }
          : { ...s, oarState: state };
      } catch (e) {
        if (signal?.aborted) throw e;
        return { ...s, problem: errorMessage(e) };
      }
    },
    { concurrency: SITE_CONCURRENCY },
  );
  return { grid, sites: out };
}

/** oargridstat -l ID: every assigned host, once per resource (core), site after site. */
export async function gridHosts(id: number, deps: GridDeps): Promise<string[]> {
  const { sites } = deps.store.mustGet(id);
  const runner = runnerForConfig(deps.config, deps.runnerFor);
  const signal = deps.signal;
  const lists = await pMap(
    sites.filter((s) => s.state === 'reserved'),
    async (s) => {
      const jobId = s.batchId as number;
      const r = await runner(s.site)(['oarstat', '-p', '-j', String(jobId)], signal ? { signal } : {});
      return parseResourceHosts(s.site, jobId, r);
    },
    { concurrency: SITE_CONCURRENCY },
  );
  return lists.flat();
}

/** States a job never leaves for Running. */
const ENDED = new Set(['Error', 'Terminated', 'Finishing', 'toError']);

/** oargridstat -w without --max-wait: an advance reservation runs at its start; past it, this long. */
export const DEFAULT_WAIT_AFTER_START_S = 600;

/**
 * oargridstat -w: polls until every site job of the grid runs. A site job that ended, was deleted
 * or is unknown to its OAR will never run: that ends the wait with an error naming it, rather
 * than waiting forever. So does the bound: `untilMs` (default: the reservation's start, or now
 * when it is past, plus 10 min), with an error naming the site jobs not running yet. Cancelled by
 * the signal (Ctrl-C).
 */
export async function waitRunning(
  id: number,
  deps: GridDeps,
  o: { pollMs?: number; untilMs?: number; now?: () => number } = {},
): Promise<void> {
  const now = o.now ?? Date.now;
  const pollMs = o.pollMs ?? 2000;
  const { grid } = deps.store.mustGet(id);
  const untilMs = o.untilMs ?? Math.max(grid.startAt, now()) + DEFAULT_WAIT_AFTER_START_S * 1000;
  for (;;) {
    const { sites } = await gridStatus(id, deps);
    const reserved = sites.filter((s) => s.state === 'reserved');
    if (reserved.length === 0) {
      throw new KaployError('KAPLOY_OAR', `grid reservation ${id} holds no site job (${describe(sites)})`);
    }
    const dead = reserved.find(
      (s) => (s.oarState !== undefined && ENDED.has(s.oarState)) || s.problem?.includes('unknown to'),
    );
    if (dead) {
      throw new KaployError(
        'KAPLOY_OAR',
        `grid reservation ${id}: the job ${dead.batchId} of site ${dead.site} will not run (${dead.oarState ?? dead.problem})`,
      );
    }
    const waiting = reserved.filter((s) => s.oarState !== 'Running');
    if (waiting.length === 0) return;
    const left = untilMs - now();
    if (left <= 0) {
      const which = waiting
        .map((s) => `${s.site} job ${s.batchId} ${s.oarState ?? s.problem ?? 'not asked'}`)
        .join(', ');
      throw new KaployError(
        'KAPLOY_OAR',
        `grid reservation ${id}: not every site job runs by the end of the wait (${which}); wait longer with --max-wait SECONDS, or look with oargridstat ${id}`,
      );
    }
    await pause(Math.min(pollMs, left), deps.signal);
  }
}

/** Waits `ms`, or rejects when the signal fires; leaves no listener behind either way. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason ?? new Error('aborted'));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function describe(sites: SiteJobStatus[]): string {
  return sites.map((s) => `${s.site}: ${s.state}${s.message ? ` (${s.message})` : ''}`).join('; ');
}
