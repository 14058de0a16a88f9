import { isIP } from 'node:net';
import path from 'node:path';
import { expandRange } from '../formats/node-names.js';
import type { ConfigReporter } from './config/pipeline.js';
import type { ClusterFile, CommandFile, LevelsFile, NodeRangeFile, SiteFile } from './site-config-file.js';
import type {
  ClusterConfig,
  CommandSpec,
  KadeployApiConfig,
  LevelCommands,
  MetricsConfig,
  NodeConfig,
} from './site-config-types.js';

/** The normalise step of a cluster: node ranges expanded, commands typed, paths absolute. */
type Path = (string | number)[];

export function normaliseCluster(
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
  if (http.token_file !== undefined && !path.isAbsolute(http.token_file))
    r.fail([...at, 'http', 'token_file'], 'expected an absolute path');
  return {
    kind: 'http',
    method: http.method.toUpperCase() as 'GET' | 'POST' | 'PUT',
    url: http.url,
    ...(http.token_file === undefined ? {} : { tokenFile: http.token_file }),
  };
}

function levels(l: LevelsFile, at: Path, r: ConfigReporter): LevelCommands {
  const out: LevelCommands = {};
  for (const [level, c] of Object.entries(l) as [keyof LevelCommands, CommandFile][])
    out[level] = command(c, [...at, level], r);
  return out;
}

/** `metrics.listen`: ADDRESS:PORT, the address an IP (names are not resolved), the port 0-65535. */
export function normaliseMetrics(f: SiteFile, r: ConfigReporter): MetricsConfig {
  const { enabled, listen } = f.metrics;
  if (listen === '') return { enabled };
  const at = listen.lastIndexOf(':');
  const host = listen.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  const port = Number(listen.slice(at + 1));
  if (isIP(host) === 0)
    r.fail(['metrics', 'listen'], `'${host}' is not an IP address (names are not resolved)`);
  if (port > 65535) r.fail(['metrics', 'listen'], `port ${port} is above 65535`);
  return { enabled, listen: { host, port } };
}

/** `kadeploy_api`: the host defaults to the engine's, proxies must be IP addresses. */
export function normaliseKadeployApi(f: SiteFile, r: ConfigReporter): KadeployApiConfig {
  const k = f.kadeploy_api;
  const trustedProxies = k.trusted_proxies.map((a, i) => {
    const addr = a.trim().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
    if (isIP(addr) === 0)
      r.fail(['kadeploy_api', 'trusted_proxies', i], `'${a}' is not an IP address (names are not resolved)`);
    return addr;
  });
  return {
    enabled: k.enabled,
    host: k.host === '' ? f.server.host : k.host,
    port: k.port,
    prefix: k.prefix,
    trustedProxies,
    headerPrefix: k.header_prefix,
  };
}

/**
 * `server.tls_cert` and `server.tls_key` go together: one without the other would serve plain HTTP
 * where the admin meant HTTPS. The files are read when the engine starts (src/engine/server/tls.ts).
 */
export function normaliseTls(
  f: SiteFile,
  abs: (p: string) => string,
  r: ConfigReporter,
): { tls?: { certFile: string; keyFile: string } } {
  const { tls_cert: cert, tls_key: key } = f.server;
  if (cert === '' && key === '') return {};
  if (cert === '') r.fail(['server', 'tls_cert'], 'tls_key is set: give its certificate too');
  if (key === '') r.fail(['server', 'tls_key'], 'tls_cert is set: give its private key too');
  return { tls: { certFile: abs(cert), keyFile: abs(key) } };
}
