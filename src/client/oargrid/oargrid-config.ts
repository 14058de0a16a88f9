import os from 'node:os';
import path from 'node:path';
import type { ConfigReporter } from '../../common/config/pipeline.js';
import { KaployError } from '../../common/errors.js';

/** How one site's OAR commands are run: on this machine, or on its frontend through OpenSSH. */
export type SiteAccess = { kind: 'local' } | { kind: 'ssh'; host: string; configFile?: string };

export interface GridAlias {
  alias: string;
  site: string;
  /** The OAR `cluster` property of the alias's nodes; absent: any node of the site. */
  cluster?: string;
}

/** The client configuration's `oargrid:` section, normalised (see oargrid-config-schema.ts). */
export interface OargridConfig {
  aliases: Map<string, GridAlias>;
  sites: Map<string, SiteAccess>;
  /** command_timeout in ms: one oarsub, oarstat, oardel or date on a site. */
  commandTimeoutMs: number;
}

export interface OargridSection {
  aliases: Record<string, { site: string; cluster?: string; access: string }>;
  ssh_config?: string;
  command_timeout?: number;
}

/** Observed: an idle OAR 2.5.9 validates a reservation in about 11 s; a busy one takes longer. */
const DEFAULT_COMMAND_TIMEOUT_S = 120;

const expandHome = (p: string) => (p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p);

/** Normalise (paths, access) and the cross-field rule: the aliases of one site reach it the same way. */
export function normaliseOargrid(section: OargridSection, file: string, r: ConfigReporter): OargridConfig {
  const configFile =
    section.ssh_config === undefined
      ? undefined
      : path.resolve(path.dirname(file), expandHome(section.ssh_config));
  const aliases = new Map<string, GridAlias>();
  const sites = new Map<string, SiteAccess>();
  const accessText = new Map<string, string>();
  for (const [alias, e] of Object.entries(section.aliases)) {
    aliases.set(alias, { alias, site: e.site, ...(e.cluster === undefined ? {} : { cluster: e.cluster }) });
    const seen = accessText.get(e.site);
    if (seen !== undefined && seen !== e.access) {
      r.fail(
        ['oargrid', 'aliases', alias, 'access'],
        `site ${e.site} is reached as '${seen}' by another alias: one site, one access`,
      );
    }
    accessText.set(e.site, e.access);
    const host = e.access.startsWith('ssh ') ? e.access.slice(4) : undefined;
    sites.set(
      e.site,
      host === undefined
        ? { kind: 'local' }
        : { kind: 'ssh', host, ...(configFile === undefined ? {} : { configFile }) },
    );
  }
  return {
    aliases,
    sites,
    commandTimeoutMs: (section.command_timeout ?? DEFAULT_COMMAND_TIMEOUT_S) * 1000,
  };
}

/** The section, or what to write in which file when it is missing. */
export function requireOargrid(cfg: { file: string; oargrid?: OargridConfig }): OargridConfig {
  if (cfg.oargrid) return cfg.oargrid;
  throw new KaployError(
    'KAPLOY_CONFIG',
    `${cfg.file} has no oargrid section: the sites each oargridsub alias names are set there (docs/grid.md)`,
    { file: cfg.file, key: 'oargrid' },
  );
}
