import { KaployError } from '../../common/errors.js';
import type { GridRequest } from './grid-description.js';
import type { OargridConfig, SiteAccess } from './oargrid-config.js';

/** One site's part of a grid reservation: one OAR job holding every alias of that site. */
export interface SitePlan {
  site: string;
  access: SiteAccess;
  requests: (GridRequest & { cluster?: string })[];
}

/** Groups the requests by site, in the order their aliases come; an unknown alias ends it all. */
export function planSites(requests: readonly GridRequest[], cfg: OargridConfig): SitePlan[] {
  const plans = new Map<string, SitePlan>();
  for (const r of requests) {
    const a = cfg.aliases.get(r.alias);
    if (!a) {
      throw new KaployError(
        'KAPLOY_OPTION',
        `unknown alias '${r.alias}'; the client configuration's oargrid aliases are ${[...cfg.aliases.keys()].join(', ')}`,
      );
    }
    const access = cfg.sites.get(a.site) as SiteAccess;
    const plan = plans.get(a.site) ?? { site: a.site, access, requests: [] };
    plan.requests.push({ ...r, ...(a.cluster === undefined ? {} : { cluster: a.cluster }) });
    plans.set(a.site, plan);
  }
  return [...plans.values()];
}

/**
 * oarsub's `-l`: each alias as `{cluster='C' AND (PROP)}/RDEF`, joined by `+` (OAR's moldable
 * "and" of several resource groups in one job), then the walltime. The cluster and property go
 * inside the braces, which OAR applies to that group only.
 */
export function resourceRequest(plan: SitePlan, walltime: string): string {
  const groups = plan.requests.map((r) => {
    const conds = [
      ...(r.cluster === undefined ? [] : [`cluster='${r.cluster}'`]),
      ...(r.prop === undefined ? [] : [`(${r.prop})`]),
    ];
    return conds.length === 0 ? r.rdef : `{${conds.join(' AND ')}}/${r.rdef}`;
  });
  return `${groups.join('+')},walltime=${walltime}`;
}
