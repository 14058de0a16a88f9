import type { OperationOutcome } from '../../api/operation-status.js';
import { APP_CODES, KaployError, type KaployErrorCode } from '../../common/errors.js';
import { siteNodeOutcome } from '../deploy/site-failure.js';
import type { SiteRun } from './fan-out.js';

/**
 * Every node of every site, in site order: a site's own outcomes, or for a site that failed as a
 * whole, each of its nodes KO with a step saying how (`Server-unreachable`, `Server-refused`,
 * `Server-lost`; cancelled nodes `cancelled`), and any node a site reported nothing for KO too.
 */
export function mergedOutcomes<R>(
  runs: readonly SiteRun<R>[],
  outcomesOf: (value: R) => readonly OperationOutcome[],
): OperationOutcome[] {
  return runs.flatMap((r) => {
    const own = r.value === undefined ? [] : [...outcomesOf(r.value)];
    const reported = new Set(own.map((x) => x.node));
    const stage = r.failure?.stage ?? 'refused';
    const reason = r.failure?.message ?? `no outcome reported by server ${r.server}`;
    return [...own, ...r.nodes.filter((n) => !reported.has(n)).map((n) => siteNodeOutcome(n, stage, reason))];
  });
}

/**
 * The one exit rule of -M, part one: when no site did anything (each failed before starting), the
 * run fails as a whole with the first site's error code (4 refused, 5 unreachable, ...) and every
 * site's reason. Otherwise the caller's statuses decide: over nodes for operations, over sites
 * for listings (`siteStatuses`), 0 all OK, 1 some, 2 none (exitCodeForStatuses).
 */
export function requireSomeSite<R>(runs: readonly SiteRun<R>[], what: string): void {
  if (runs.some((r) => r.value !== undefined || r.wid !== undefined)) return;
  const first = runs.find((r) => r.failure)?.failure;
  const code: KaployErrorCode =
    first && first.code in APP_CODES ? (first.code as KaployErrorCode) : 'KAPLOY_CLIENT';
  const detail = runs.map((r) => `${r.server}: ${r.failure?.message ?? 'not started'}`).join('; ');
  throw new KaployError(code, `no site ${what} (${detail})`);
}

/** A listing's statuses: one per site, ok when it answered. */
export function siteStatuses<R>(runs: readonly SiteRun<R>[]): ('ok' | 'ko')[] {
  return runs.map((r) => (r.failure ? 'ko' : 'ok'));
}
