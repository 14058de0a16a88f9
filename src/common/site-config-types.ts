/**
 * The site configuration, normalised (all durations in ms, ranges expanded, paths absolute).
 * Written in YAML by admins (every key: docs/configuration.md); the virtual site writes a working one.
 * Loaded by src/common/site-config.ts (read -> validate -> normalise -> cross-field rules).
 */

/** How a hardware action is performed: an argument vector (no shell) or an HTTP call (BMC-like API). */
export type CommandSpec =
  | { kind: 'argv'; argv: string[] }
  | {
      kind: 'http';
      method: 'GET' | 'POST' | 'PUT';
      url: string;
      /** A file holding a bearer token sent as `Authorization: Bearer TOKEN` (read at each call). */
      tokenFile?: string;
    };

export type Level = 'soft' | 'hard' | 'very_hard';
export const LEVELS: readonly Level[] = ['soft', 'hard', 'very_hard'];

/** Placeholders substituted in argv words and URLs: {node} {short} {address} {cluster} {site}. */
export type LevelCommands = Partial<Record<Level, CommandSpec>>;

export interface NodeConfig {
  name: string; // FQDN as OAR writes it in node files
  address: string; // IPv4 the engine connects to (and names the PXE file after)
  cluster: string;
}

export interface ClusterConfig {
  name: string;
  nodes: NodeConfig[];
  sshPort: number;
  partitioning: { blockDevice: string; swap: number; prod: number; deploy: number; tmp: number };
  /** PXE kernel/initrd/params of the deployment environment (paths relative to the TFTP root). */
  deployEnv: { kernel: string; initrd: string; params: string };
  /** Timeouts are expressions of n (node count), in seconds, e.g. "200+150*log(n)". */
  timeouts: { reboot: string; kexec: string };
  /** Default workflow, in --force-steps syntax. */
  automata: string;
  commands: {
    reboot: LevelCommands;
    powerOn: LevelCommands;
    powerOff: LevelCommands;
    powerStatus?: CommandSpec;
    console?: CommandSpec;
  };
  /** Admin postinstall run on every deployment (BroadcastEnv-manage_admin_post_install). */
  adminPostinstall?: { archive: string; compression: 'gzip' | 'bzip2' | 'xz' | 'zstd'; script: string };
}

export interface SiteConfig {
  /** The file it was loaded from (for messages), or '<embedded>'. */
  source: string;
  site: string;
  listen: {
    host: string;
    port: number;
    /** Connection limits (absent: the defaults of src/engine/server/connection-limits.ts; literal configurations of tests). */
    maxConnections?: number;
    maxConnectionsPerAddress?: number;
    headerTimeoutMs?: number;
    /** HTTPS: the certificate chain and key files (absent: plain HTTP). */
    tls?: { certFile: string; keyFile: string };
  };
  dataDir: string;
  admins: string[];
  /** pxelinux.cfg directory the engine writes per-node profiles into. */
  bootDir: string;
  pxeFileNaming: 'ip_hex' | 'ip' | 'hostname';
  /** Directories whose files may be named as `server://PATH` images. */
  imageDirs: string[];
  ssh: {
    keyFile: string;
    user: string;
    connectTimeoutMs: number;
    keepaliveIntervalMs: number;
    maxChannels: number;
  };
  windows: { reboot: number; check: number };
  extractDir: string;
  /** Port the deployment environment opens so the engine can tell it from the installed system. */
  markerPort: number;
  /**
   * wait_reboot polling: Kadeploy sleeps 20 s then polls every 5 s; a virtual site boots in
   * milliseconds and uses much smaller values.
   */
  waitReboot: { initialDelayMs: number; pollMs: number };
  /** Production environment (used by the OAR restore): name and owner. */
  production: { environment: string; user: string };
  /** The image cache's bound and the download policy of image URLs. */
  cache: {
    maxBytes: number;
    download: { idleTimeoutMs: number; timeoutMs: number; maxRedirects: number; crossHostRedirects: boolean };
  };
  /**
   * The site-wide bound on operations in flight and their nodes (0: no bound); absent (literal
   * configurations of tests): no bound.
   */
  admission?: { maxOperations: number; maxNodes: number };
  clusters: ClusterConfig[];
  /** The Kadeploy 3.3-compatible listener (absent: not served; literal configurations of tests). */
  kadeployApi?: KadeployApiConfig;
  /** GET /metrics (absent: served on the engine's listener, as by default). */
  metrics?: MetricsConfig;
}

/** `metrics`: where the engine's Prometheus metrics are served. */
export interface MetricsConfig {
  enabled: boolean;
  /** A listener of their own, without authentication; absent: the engine's listener, admins only. */
  listen?: { host: string; port: number };
}

/** `kadeploy_api`: Kadeploy's REST API over the engine's services, on its own port. */
export interface KadeployApiConfig {
  enabled: boolean;
  host: string;
  port: number;
  /** Path root, '' or `/a/b` (no trailing slash). */
  prefix: string;
  /** Source addresses whose identity header is believed (normalised: IPv4-mapped IPv6 as IPv4). */
  trustedProxies: string[];
  headerPrefix: string;
}
