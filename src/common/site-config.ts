import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseAutomata } from '../formats/force-steps.js';
import { expandRange } from '../formats/node-names.js';
import { KaployError } from './errors.js';
import {
  type ClusterConfig,
  type CommandSpec,
  LEVELS,
  type LevelCommands,
  type NodeConfig,
  type SiteConfig,
} from './site-config-types.js';

export * from './site-config-types.js';

/**
 * One configuration pipeline: read -> validate -> normalise -> cross-field rules. Every problem is
 * reported with its file and key (conventions §10).
 */
type Raw = Record<string, unknown>;

class Reader {
  constructor(
    readonly file: string,
    readonly baseDir: string,
  ) {}

  fail(key: string, msg: string): never {
    throw new KaployError('KAPLOY_CONFIG', `${this.file}: ${key}: ${msg}`, { file: this.file, key });
  }

  obj(v: unknown, key: string): Raw {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(key, 'expected a mapping');
    return v as Raw;
  }

  str(o: Raw, k: string, key: string, def?: string): string {
    const v = o[k];
    if (v === undefined || v === null) {
      if (def !== undefined) return def;
      this.fail(`${key}.${k}`, 'is mandatory');
    }
    if (typeof v !== 'string' && typeof v !== 'number') this.fail(`${key}.${k}`, 'expected a string');
    return String(v);
  }

  int(o: Raw, k: string, key: string, def: number | undefined, min = 0, max = 1e9): number {
    const v = o[k];
    if (v === undefined || v === null) {
      if (def !== undefined) return def;
      this.fail(`${key}.${k}`, 'is mandatory');
    }
    const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      this.fail(`${key}.${k}`, `expected an integer between ${min} and ${max}`);
    }
    return n;
  }

  path(o: Raw, k: string, key: string, def?: string): string {
    return path.resolve(this.baseDir, this.str(o, k, key, def));
  }

  strList(o: Raw, k: string, key: string, def: string[]): string[] {
    const v = o[k];
    if (v === undefined || v === null) return def;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
      this.fail(`${key}.${k}`, 'expected a list of strings');
    return v as string[];
  }

  command(v: unknown, key: string): CommandSpec {
    const o = this.obj(v, key);
    if (o.argv !== undefined) {
      const argv = o.argv;
      if (!Array.isArray(argv) || argv.length === 0 || argv.some((x) => typeof x !== 'string')) {
        this.fail(
          `${key}.argv`,
          'expected a non-empty list of strings (an argument vector, never a shell line)',
        );
      }
      return { kind: 'argv', argv: argv as string[] };
    }
    if (o.http !== undefined) {
      const h = this.obj(o.http, `${key}.http`);
      const method = this.str(h, 'method', `${key}.http`, 'POST').toUpperCase();
      if (method !== 'GET' && method !== 'POST' && method !== 'PUT')
        this.fail(`${key}.http.method`, 'expected GET, POST or PUT');
      const url = this.str(h, 'url', `${key}.http`);
      if (!/^https?:\/\//.test(url)) this.fail(`${key}.http.url`, 'expected an http(s) URL');
      return { kind: 'http', method, url };
    }
    return this.fail(key, 'expected `argv: [...]` or `http: {method, url}`');
  }

  levels(v: unknown, key: string): LevelCommands {
    if (v === undefined || v === null) return {};
    const o = this.obj(v, key);
    const out: LevelCommands = {};
    for (const k of Object.keys(o)) {
      if (!(LEVELS as readonly string[]).includes(k))
        this.fail(`${key}.${k}`, 'unknown level (soft, hard, very_hard)');
      out[k as keyof LevelCommands] = this.command(o[k], `${key}.${k}`);
    }
    return out;
  }
}

const DEFAULT_AUTOMATA =
  'SetDeploymentEnv|SetDeploymentEnvUntrusted:2:200&BroadcastEnv|BroadcastEnvKascade:2:300&BootNewEnv|BootNewEnvClassical:0:150,BootNewEnvHardReboot:1:120';

function parseNodes(r: Reader, v: unknown, key: string, cluster: string): NodeConfig[] {
  const items = Array.isArray(v) ? v : [v];
  const out: NodeConfig[] = [];
  items.forEach((item, i) => {
    const o = r.obj(item, `${key}[${i}]`);
    let names: string[];
    let addrs: string[];
    try {
      names = expandRange(r.str(o, 'names', `${key}[${i}]`, r.str(o, 'name', `${key}[${i}]`, '')));
      addrs = expandRange(r.str(o, 'addresses', `${key}[${i}]`, r.str(o, 'address', `${key}[${i}]`, '')));
    } catch (e) {
      r.fail(`${key}[${i}]`, (e as Error).message);
    }
    if (names.length !== addrs.length) {
      r.fail(`${key}[${i}]`, `${names.length} names but ${addrs.length} addresses`);
    }
    names.forEach((name, j) => {
      const address = addrs[j] as string;
      if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(address))
        r.fail(`${key}[${i}].addresses`, `'${address}' is not an IPv4 address`);
      out.push({ name, address, cluster });
    });
  });
  return out;
}

function parseCluster(r: Reader, v: unknown, key: string): ClusterConfig {
  const o = r.obj(v, key);
  const name = r.str(o, 'name', key);
  if (!/^[A-Za-z0-9_-]+$/.test(name)) r.fail(`${key}.name`, 'letters, digits, _ and - only');
  const part = r.obj(o.partitioning ?? {}, `${key}.partitioning`);
  const dep = r.obj(o.deploy_env ?? {}, `${key}.deploy_env`);
  const to = r.obj(o.timeouts ?? {}, `${key}.timeouts`);
  const cmds = r.obj(o.commands ?? {}, `${key}.commands`);
  const cluster: ClusterConfig = {
    name,
    nodes: parseNodes(r, o.nodes, `${key}.nodes`, name),
    sshPort: r.int(o, 'ssh_port', key, 22, 1, 65535),
    partitioning: {
      blockDevice: r.str(part, 'block_device', `${key}.partitioning`, '/dev/sda'),
      swap: r.int(part, 'swap', `${key}.partitioning`, 1, 1, 128),
      prod: r.int(part, 'prod', `${key}.partitioning`, 2, 1, 128),
      deploy: r.int(part, 'deploy', `${key}.partitioning`, 3, 1, 128),
      tmp: r.int(part, 'tmp', `${key}.partitioning`, 5, 1, 128),
    },
    deployEnv: {
      kernel: r.str(dep, 'kernel', `${key}.deploy_env`, 'deploy/vmlinuz'),
      initrd: r.str(dep, 'initrd', `${key}.deploy_env`, 'deploy/initrd.img'),
      params: r.str(dep, 'params', `${key}.deploy_env`, ''),
    },
    timeouts: {
      reboot: r.str(to, 'reboot', `${key}.timeouts`, '120'),
      kexec: r.str(to, 'kexec', `${key}.timeouts`, '60'),
    },
    automata: r.str(o, 'automata', key, DEFAULT_AUTOMATA),
    commands: {
      reboot: r.levels(cmds.reboot, `${key}.commands.reboot`),
      powerOn: r.levels(cmds.power_on, `${key}.commands.power_on`),
      powerOff: r.levels(cmds.power_off, `${key}.commands.power_off`),
      ...(cmds.power_status !== undefined
        ? { powerStatus: r.command(cmds.power_status, `${key}.commands.power_status`) }
        : {}),
      ...(cmds.console !== undefined ? { console: r.command(cmds.console, `${key}.commands.console`) } : {}),
    },
  };
  if (o.admin_postinstall !== undefined) {
    const p = r.obj(o.admin_postinstall, `${key}.admin_postinstall`);
    const compression = r.str(p, 'compression', `${key}.admin_postinstall`, 'gzip');
    if (!['gzip', 'bzip2', 'xz', 'zstd'].includes(compression)) {
      r.fail(`${key}.admin_postinstall.compression`, 'expected gzip, bzip2, xz or zstd');
    }
    cluster.adminPostinstall = {
      archive: r.path(p, 'archive', `${key}.admin_postinstall`),
      compression: compression as 'gzip',
      script: r.str(p, 'script', `${key}.admin_postinstall`, 'none'),
    };
  }
  try {
    // The default workflow must parse, or every deployment on this cluster would fail later.
    parseAutomata(cluster.automata, `${key}.automata`);
  } catch (e) {
    r.fail(`${key}.automata`, (e as Error).message);
  }
  const parts = cluster.partitioning;
  if (new Set([parts.swap, parts.prod, parts.deploy, parts.tmp]).size !== 4) {
    r.fail(`${key}.partitioning`, 'swap, prod, deploy and tmp must be different partitions');
  }
  return cluster;
}

export function parseSiteConfig(
  text: string,
  file: string,
  baseDir = path.dirname(path.resolve(file)),
): SiteConfig {
  const r = new Reader(file, baseDir);
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new KaployError('KAPLOY_CONFIG', `${file}: not valid YAML: ${(e as Error).message}`, {
      file,
      cause: e,
    });
  }
  const o = r.obj(doc ?? {}, '(top)');
  const server = r.obj(o.server ?? {}, 'server');
  const ssh = r.obj(o.ssh ?? {}, 'ssh');
  const win = r.obj(o.windows ?? {}, 'windows');
  const prod = r.obj(o.production ?? {}, 'production');
  const wr = r.obj(o.wait_reboot ?? {}, 'wait_reboot');
  const rawClusters = o.clusters;
  if (!Array.isArray(rawClusters) || rawClusters.length === 0)
    r.fail('clusters', 'expected a non-empty list');
  const cfg: SiteConfig = {
    source: file,
    site: r.str(o, 'site', '(top)'),
    listen: {
      host: r.str(server, 'host', 'server', '127.0.0.1'),
      port: r.int(server, 'port', 'server', 25300, 0, 65535),
    },
    dataDir: r.path(o, 'data_dir', '(top)', './kaploy-data'),
    admins: r.strList(o, 'admins', '(top)', ['root']),
    bootDir: r.path(o, 'boot_dir', '(top)', './tftp/pxelinux.cfg'),
    pxeFileNaming: (() => {
      const v = r.str(o, 'pxe_file_naming', '(top)', 'ip_hex');
      if (v !== 'ip_hex' && v !== 'ip' && v !== 'hostname')
        r.fail('pxe_file_naming', 'expected ip_hex, ip or hostname');
      return v as SiteConfig['pxeFileNaming'];
    })(),
    imageDirs: r.strList(o, 'image_dirs', '(top)', []).map((d) => path.resolve(baseDir, d)),
    ssh: {
      keyFile: r.path(ssh, 'key', 'ssh', './keys/engine'),
      user: r.str(ssh, 'user', 'ssh', 'root'),
      connectTimeoutMs: r.int(ssh, 'connect_timeout', 'ssh', 10, 1, 3600) * 1000,
      keepaliveIntervalMs: r.int(ssh, 'keepalive_interval', 'ssh', 15, 1, 3600) * 1000,
      maxChannels: r.int(ssh, 'max_channels', 'ssh', 8, 1, 64),
    },
    windows: {
      reboot: r.int(win, 'reboot', 'windows', 50, 1, 100000),
      check: r.int(win, 'check', 'windows', 50, 1, 100000),
    },
    extractDir: r.str(o, 'extract_dir', '(top)', '/mnt/dest'),
    markerPort: r.int(o, 'marker_port', '(top)', 25300, 1, 65535),
    waitReboot: {
      initialDelayMs: r.int(wr, 'initial_delay_ms', 'wait_reboot', 20_000, 0, 3_600_000),
      pollMs: r.int(wr, 'poll_ms', 'wait_reboot', 5_000, 10, 600_000),
    },
    production: {
      environment: r.str(prod, 'environment', 'production', 'prod-env'),
      user: r.str(prod, 'user', 'production', 'deploy'),
    },
    clusters: (rawClusters as unknown[]).map((c, i) => parseCluster(r, c, `clusters[${i}]`)),
  };
  if (!/^[A-Za-z0-9_-]+$/.test(cfg.site)) r.fail('site', 'letters, digits, _ and - only');
  const seen = new Map<string, string>();
  for (const c of cfg.clusters) {
    for (const n of c.nodes) {
      const prev = seen.get(n.name);
      if (prev) r.fail(`clusters.${c.name}.nodes`, `node ${n.name} is also declared in cluster ${prev}`);
      seen.set(n.name, c.name);
    }
  }
  return cfg;
}

export function loadSiteConfig(file: string): SiteConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new KaployError(
      'KAPLOY_CONFIG',
      `cannot read site configuration ${file}: ${(e as Error).message}`,
      { file, cause: e },
    );
  }
  return parseSiteConfig(text, file);
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
