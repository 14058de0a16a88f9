import path from 'node:path';
import { parseAutomata } from '../formats/force-steps.js';
import { expandRange } from '../formats/node-names.js';
import { adminReporter, type ConfigReporter, checkAgainstSchema, parseAdminYaml } from './config/pipeline.js';
import { readConfigText } from './config/read-file.js';
import { compileSchema } from './config/schema.js';
import type { YamlSource } from './config/yaml-source.js';
import { KaployError } from './errors.js';
import { SITE_SCHEMA, SITE_VALIDATOR } from './site-config-schema.js';
import type {
  ClusterConfig,
  CommandSpec,
  LevelCommands,
  NodeConfig,
  SiteConfig,
} from './site-config-types.js';

export * from './site-config-types.js';

/**
 * The site configuration pipeline: read -> YAML -> schema (site-config-schema.ts: unknown keys
 * refused, types, ranges, defaults) -> normalise (ranges expanded, paths absolute, ms) ->
 * cross-field rules. Every problem names the file and the key (and the line).
 */
type CommandFile = { argv?: string[]; http?: { method: string; url: string } };
type LevelsFile = Partial<Record<'soft' | 'hard' | 'very_hard', CommandFile>>;
interface NodeRangeFile {
  names?: string;
  name?: string;
  addresses?: string;
  address?: string;
}
interface ClusterFile {
  name: string;
  nodes: NodeRangeFile | NodeRangeFile[];
  ssh_port: number;
  partitioning: { block_device: string; swap: number; prod: number; deploy: number; tmp: number };
  deploy_env: { kernel: string; initrd: string; params: string };
  timeouts: { reboot: string; kexec: string };
  automata: string;
  commands: {
    reboot: LevelsFile;
    power_on: LevelsFile;
    power_off: LevelsFile;
    power_status?: CommandFile;
    console?: CommandFile;
  };
  admin_postinstall?: { archive: string; compression: 'gzip' | 'bzip2' | 'xz' | 'zstd'; script: string };
}
interface SiteFile {
  site: string;
  server: { host: string; port: number };
  data_dir: string;
  admins: string[];
  boot_dir: string;
  pxe_file_naming: SiteConfig['pxeFileNaming'];
  image_dirs: string[];
  ssh: {
    key: string;
    user: string;
    connect_timeout: number;
    keepalive_interval: number;
    max_channels: number;
  };
  windows: { reboot: number; check: number };
  extract_dir: string;
  marker_port: number;
  wait_reboot: { initial_delay_ms: number; poll_ms: number };
  production: { environment: string; user: string };
  clusters: ClusterFile[];
}
type Path = (string | number)[];

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
    listen: { host: f.server.host, port: f.server.port },
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
    clusters: f.clusters.map((c, i) => normaliseCluster(c, ['clusters', i], abs, r)),
  };
  crossFieldRules(cfg, f, r);
  return cfg;
}

function normaliseCluster(
  c: ClusterFile,
  at: Path,
  abs: (p: string) => string,
  r: ConfigReporter,
): ClusterConfig {
  const { commands: cmds } = c;
  const cluster: ClusterConfig = {
    name: c.name,
    nodes: normaliseNodes(c.nodes, [...at, 'nodes'], c.name, r),
    sshPort: c.ssh_port,
    partitioning: {
      blockDevice: c.partitioning.block_device,
      swap: c.partitioning.swap,
      prod: c.partitioning.prod,
      deploy: c.partitioning.deploy,
      tmp: c.partitioning.tmp,
    },
    deployEnv: { ...c.deploy_env },
    timeouts: { ...c.timeouts },
    automata: c.automata,
    commands: {
      reboot: levels(cmds.reboot, [...at, 'commands', 'reboot'], r),
      powerOn: levels(cmds.power_on, [...at, 'commands', 'power_on'], r),
      powerOff: levels(cmds.power_off, [...at, 'commands', 'power_off'], r),
      ...(cmds.power_status
        ? { powerStatus: command(cmds.power_status, [...at, 'commands', 'power_status'], r) }
        : {}),
      ...(cmds.console ? { console: command(cmds.console, [...at, 'commands', 'console'], r) } : {}),
    },
  };
  const post = c.admin_postinstall;
  if (post) cluster.adminPostinstall = { ...post, archive: abs(post.archive) };
  return cluster;
}

function normaliseNodes(v: NodeRangeFile | NodeRangeFile[], at: Path, cluster: string, r: ConfigReporter) {
  const out: NodeConfig[] = [];
  (Array.isArray(v) ? v : [v]).forEach((range, i) => {
    const where = Array.isArray(v) ? [...at, i] : at;
    let names: string[];
    let addrs: string[];
    try {
      names = expandRange(range.names ?? range.name ?? '');
      addrs = expandRange(range.addresses ?? range.address ?? '');
    } catch (e) {
      r.fail(where, (e as Error).message);
    }
    if (names.length !== addrs.length) r.fail(where, `${names.length} names but ${addrs.length} addresses`);
    names.forEach((name, j) => {
      const address = addrs[j] as string;
      if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(address))
        r.fail(
          [...where, range.addresses === undefined ? 'address' : 'addresses'],
          `'${address}' is not an IPv4 address`,
        );
      out.push({ name, address, cluster });
    });
  });
  return out;
}

function command(c: CommandFile, at: Path, r: ConfigReporter): CommandSpec {
  // Which of the two would run is not for the engine to guess.
  if (c.argv && c.http) r.fail(at, 'give either argv or http, not both');
  if (c.argv) return { kind: 'argv', argv: c.argv };
  const http = c.http as NonNullable<CommandFile['http']>;
  return { kind: 'http', method: http.method.toUpperCase() as 'GET' | 'POST' | 'PUT', url: http.url };
}

function levels(l: LevelsFile, at: Path, r: ConfigReporter): LevelCommands {
  const out: LevelCommands = {};
  for (const [level, c] of Object.entries(l) as [keyof LevelCommands, CommandFile][])
    out[level] = command(c, [...at, level], r);
  return out;
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
