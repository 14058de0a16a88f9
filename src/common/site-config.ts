import path from 'node:path';
import { parseAutomata } from '../formats/force-steps.js';
import { adminReporter, type ConfigReporter, checkAgainstSchema, parseAdminYaml } from './config/pipeline.js';
import { readConfigText } from './config/read-file.js';
import { compileSchema } from './config/schema.js';
import type { YamlSource } from './config/yaml-source.js';
import { KaployError } from './errors.js';
import type { SiteFile } from './site-config-file.js';
import {
  normaliseCluster,
  normaliseKadeployApi,
  normaliseMetrics,
  normaliseTls,
} from './site-config-normalise.js';
import { SITE_SCHEMA, SITE_VALIDATOR } from './site-config-schema.js';
import type { ClusterConfig, NodeConfig, SiteConfig } from './site-config-types.js';

export * from './site-config-types.js';

/**
 * The site configuration pipeline: read -> YAML -> schema (site-config-schema.ts: unknown keys
 * refused, types, ranges, defaults) -> normalise (ranges expanded, paths absolute, ms) ->
 * cross-field rules. Every problem names the file and the key (and the line).
 */

const schema = compileSchema(SITE_SCHEMA, SITE_VALIDATOR);

export function parseSiteConfig(
  text: string,
  file: string,
  baseDir = path.dirname(path.resolve(file)),
): SiteConfig {
  const source = parseAdminYaml(text, file);
  return siteConfigFrom(source, file, baseDir);
}

export function loadSiteConfig(file: string): SiteConfig {
  return parseSiteConfig(readConfigText(file, 'site configuration'), file);
}

function siteConfigFrom(source: YamlSource, file: string, baseDir: string): SiteConfig {
  const r = adminReporter(file, source);
  const doc = source.data ?? {};
  checkAgainstSchema(schema, doc, 'refuse', r);
  const f = doc as SiteFile;
  const abs = (p: string) => path.resolve(baseDir, p);
  const cfg: SiteConfig = {
    source: file,
    site: f.site,
    listen: {
      host: f.server.host,
      port: f.server.port,
      maxConnections: f.server.max_connections,
      maxConnectionsPerAddress: f.server.max_connections_per_address,
      headerTimeoutMs: f.server.header_timeout * 1000,
      ...normaliseTls(f, abs, r),
    },
    dataDir: abs(f.data_dir),
    admins: f.admins,
    bootDir: abs(f.boot_dir),
    pxeFileNaming: f.pxe_file_naming,
    imageDirs: f.image_dirs.map(abs),
    ssh: {
      keyFile: abs(f.ssh.key),
      user: f.ssh.user,
      connectTimeoutMs: f.ssh.connect_timeout * 1000,
      keepaliveIntervalMs: f.ssh.keepalive_interval * 1000,
      maxChannels: f.ssh.max_channels,
    },
    windows: { reboot: f.windows.reboot, check: f.windows.check },
    extractDir: f.extract_dir,
    markerPort: f.marker_port,
    waitReboot: { initialDelayMs: f.wait_reboot.initial_delay_ms, pollMs: f.wait_reboot.poll_ms },
    production: { environment: f.production.environment, user: f.production.user },
    cache: {
      maxBytes: f.cache.max_bytes,
      download: {
        idleTimeoutMs: f.cache.download_idle_timeout * 1000,
        timeoutMs: f.cache.download_timeout * 1000,
        maxRedirects: f.cache.max_redirects,
        crossHostRedirects: f.cache.cross_host_redirects,
      },
    },
    admission: { maxOperations: f.admission.max_operations, maxNodes: f.admission.max_nodes },
    clusters: f.clusters.map((c, i) => normaliseCluster(c, ['clusters', i], abs, r)),
    kadeployApi: normaliseKadeployApi(f, r),
    metrics: normaliseMetrics(f, r),
  };
  crossFieldRules(cfg, f, r);
  return cfg;
}

/** Rules between keys: what a schema of each key alone cannot say. */
function crossFieldRules(cfg: SiteConfig, f: SiteFile, r: ConfigReporter): void {
  const seen = new Map<string, string>();
  cfg.clusters.forEach((c, i) => {
    const at = ['clusters', i];
    try {
      // The default workflow must parse, or every deployment on this cluster would fail later.
      parseAutomata(c.automata, `clusters[${i}].automata`);
    } catch (e) {
      r.fail([...at, 'automata'], (e as Error).message);
    }
    const p = c.partitioning;
    if (new Set([p.swap, p.prod, p.deploy, p.tmp]).size !== 4)
      r.fail([...at, 'partitioning'], 'swap, prod, deploy and tmp must be different partitions');
    for (const n of c.nodes) {
      const prev = seen.get(n.name);
      if (prev) r.fail([...at, 'nodes'], `node ${n.name} is also declared in cluster ${prev}`);
      seen.set(n.name, c.name);
    }
  });
  const names = f.clusters.map((c) => c.name);
  names.forEach((name, i) => {
    if (names.indexOf(name) !== i) r.fail(['clusters', i, 'name'], `cluster ${name} is declared twice`);
  });
}

/** All nodes of the site by name. */
export function nodeIndex(cfg: SiteConfig): Map<string, NodeConfig> {
  const m = new Map<string, NodeConfig>();
  for (const c of cfg.clusters) for (const n of c.nodes) m.set(n.name, n);
  return m;
}

export function clusterOf(cfg: SiteConfig, cluster: string): ClusterConfig {
  const c = cfg.clusters.find((x) => x.name === cluster);
  if (!c) throw new KaployError('KAPLOY_CONFIG', `unknown cluster ${cluster}`);
  return c;
}

/** Substitutes {node} {short} {address} {cluster} {site} placeholders. */
export function fillPlaceholders(template: string, vars: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => vars[k] ?? m);
}
