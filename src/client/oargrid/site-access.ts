import { KaployError } from '../../common/errors.js';
import type { OargridConfig, SiteAccess } from './oargrid-config.js';
import { type SiteRunner, siteRunner } from './site-runner.js';

/** Makes the runner of a site from its access (the default runs local commands or ssh). */
export type RunnerFor = (site: string, access: SiteAccess, timeoutMs: number) => SiteRunner;

/**
 * Site name -> runner, from the configuration as it is now: a grid recorded earlier may name a
 * site since removed from it, which is an error of that site only (thrown when its runner runs).
 */
export function runnerForConfig(
  cfg: OargridConfig,
  make: RunnerFor = siteRunner,
): (site: string) => SiteRunner {
  return (site) => {
    const access = cfg.sites.get(site);
    if (!access) {
      return () =>
        Promise.reject(
          new KaployError(
            'KAPLOY_CONFIG',
            `site ${site}: not in the client configuration's oargrid aliases any more`,
          ),
        );
    }
    return make(site, access, cfg.commandTimeoutMs);
  };
}
