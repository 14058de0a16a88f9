import type { ValidatorOptions } from './config/ajv-instance.js';
import type { ConfigSchema } from './config/schema-types.js';

/**
 * The site configuration file, as a JSON Schema (loaded by site-config.ts). Numbers may be written
 * as strings and names as numbers: the site configuration always accepted both.
 */
const DEFAULT_AUTOMATA =
  'SetDeploymentEnv|SetDeploymentEnvUntrusted:2:200&BroadcastEnv|BroadcastEnvKascade:2:300&BootNewEnv|BootNewEnvClassical:0:150,BootNewEnvHardReboot:1:120';

const NAME = { pattern: '^[A-Za-z0-9_-]+$', message: { pattern: 'letters, digits, _ and - only' } };
const str = (description: string, dflt?: string): ConfigSchema => ({
  type: 'string',
  description,
  ...(dflt === undefined ? {} : { default: dflt }),
});
const int = (description: string, dflt: number, minimum: number, maximum: number): ConfigSchema => ({
  type: 'integer',
  minimum,
  maximum,
  default: dflt,
  description,
  message: 'expected an integer between {minimum} and {maximum}',
});
const section = (description: string, properties: Record<string, ConfigSchema>): ConfigSchema => ({
  type: 'object',
  default: {},
  additionalProperties: false,
  description,
  properties,
});

const COMMAND: ConfigSchema = {
  type: 'object',
  minProperties: 1,
  additionalProperties: false,
  message: {
    type: 'expected a mapping: `argv: [...]` or `http: {method, url}`',
    minProperties: 'expected `argv: [...]` or `http: {method, url}`',
  },
  description:
    'An argument vector (`argv: [...]`, no shell) or an HTTP call (`http: {method, url}`); `{node}` `{short}` `{address}` `{cluster}` `{site}` are substituted.',
  properties: {
    argv: {
      type: 'array',
      minItems: 1,
      items: { type: 'string' },
      description: 'The program and its arguments.',
      message: 'expected a non-empty list of strings (an argument vector, never a shell line)',
    },
    http: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      description: 'A call to a BMC-like HTTP API.',
      properties: {
        method: {
          type: 'string',
          pattern: '^([Gg][Ee][Tt]|[Pp][Oo][Ss][Tt]|[Pp][Uu][Tt])$',
          default: 'POST',
          description: 'GET, POST or PUT.',
          message: 'expected GET, POST or PUT',
        },
        url: {
          type: 'string',
          pattern: '^https?://',
          description: 'An http(s) URL.',
          message: 'expected an http(s) URL',
        },
        token_file: {
          type: 'string',
          minLength: 1,
          description:
            'An absolute path to a file (owner-only) holding a bearer token (16-200 characters of `A-Za-z0-9_-`), sent as `Authorization: Bearer TOKEN`; read at each call.',
          message: 'expected the path of a token file',
        },
      },
    },
  },
};

const levels = (description: string): ConfigSchema => ({
  type: 'object',
  default: {},
  additionalProperties: false,
  message: { additionalProperties: 'unknown level (soft, hard, very_hard)' },
  description,
  properties: { soft: COMMAND, hard: COMMAND, very_hard: COMMAND },
});

const NODE_RANGE: Record<string, ConfigSchema> = {
  names: str('Node names as OAR writes them, a range allowed (`node-[1-72].site`).'),
  name: str('One node name (instead of names).'),
  addresses: str('Their IPv4 addresses, a range of as many (`10.16.0.[1-72]`).'),
  address: str('One address (instead of addresses).'),
};

const CLUSTER: ConfigSchema = {
  type: 'object',
  required: ['name', 'nodes'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', ...NAME, description: 'The cluster name.' },
    nodes: {
      type: ['array', 'object'],
      items: { type: 'object', additionalProperties: false, properties: NODE_RANGE },
      additionalProperties: false,
      properties: NODE_RANGE,
      message: { type: 'expected a mapping' },
      description: 'Node ranges: a list (or one) of `{names, addresses}`.',
    },
    ssh_port: int('SSH port of the nodes.', 22, 1, 65535),
    partitioning: section('Partition numbers of the nodes’ disk (all different).', {
      block_device: str('The disk.', '/dev/sda'),
      swap: int('Swap partition.', 1, 1, 128),
      prod: int('Production system partition.', 2, 1, 128),
      deploy: int('Partition deployments write to.', 3, 1, 128),
      tmp: int('Scratch partition.', 5, 1, 128),
    }),
    deploy_env: section('PXE kernel of the deployment environment (paths relative to the TFTP root).', {
      kernel: str('Kernel.', 'deploy/vmlinuz'),
      initrd: str('Initrd.', 'deploy/initrd.img'),
      params: str('Kernel command line.', ''),
    }),
    timeouts: section(
      'Reboot timeouts, in seconds, expressions of n (the node count), e.g. `200+150*log(n)`.',
      {
        reboot: str('A reboot.', '120'),
        kexec: str('A kexec.', '60'),
      },
    ),
    automata: str('Default workflow, in --force-steps syntax (docs/workflow.md).', DEFAULT_AUTOMATA),
    commands: section('Hardware commands (docs/nodeops.md).', {
      reboot: levels('Reboot, per level (soft, hard, very_hard).'),
      power_on: levels('Power on, per level.'),
      power_off: levels('Power off, per level.'),
      power_status: { ...COMMAND, description: `Power status (first output line). ${COMMAND.description}` },
      console: { ...COMMAND, description: `Serial console (kaconsole3). ${COMMAND.description}` },
    }),
    admin_postinstall: {
      type: 'object',
      required: ['archive'],
      additionalProperties: false,
      description: 'Admin postinstall run on every deployment (BroadcastEnv manage_admin_post_install).',
      properties: {
        archive: str('The archive (relative to the configuration file).'),
        compression: {
          type: 'string',
          enum: ['gzip', 'bzip2', 'xz', 'zstd'],
          default: 'gzip',
          description: 'Its compression.',
        },
        script: str('Script run from the archive, or `none`.', 'none'),
      },
    },
  },
};

/** How the site configuration's validator is built (and precompiled: ajv-instance.ts). */
export const SITE_VALIDATOR: ValidatorOptions = {
  useDefaults: true,
  coerceTypes: true,
  precompiled: 'site-config',
};

export const SITE_SCHEMA: ConfigSchema = {
  type: 'object',
  required: ['site', 'clusters'],
  additionalProperties: false,
  message: { type: 'expected a mapping' },
  properties: {
    site: { type: 'string', ...NAME, description: 'The site name.' },
    server: section('Where the engine listens.', {
      host: str('Address.', '127.0.0.1'),
      port: int('Port (0: any free port).', 25300, 0, 65535),
      max_connections: int(
        'Open client connections the engine accepts in all; beyond, new ones are closed at once (keep it below the file descriptor limit).',
        4096,
        16,
        1_000_000,
      ),
      max_connections_per_address: int(
        'Open client connections one address may hold; beyond, its new ones are closed at once, so one host cannot take every descriptor.',
        256,
        1,
        1_000_000,
      ),
      header_timeout: int(
        'Seconds a client has to send a request’s headers (also a connection that sends nothing); then it is closed.',
        10,
        1,
        600,
      ),
      tls_cert: str(
        'PEM certificate chain of the engine (relative to this file): with tls_key, the engine and its Kadeploy-compatible listener serve HTTPS only. Empty: plain HTTP.',
        '',
      ),
      tls_key: str('PEM private key of tls_cert (not readable by every user).', ''),
    }),
    data_dir: str('SQLite store and image cache; keep it on a local disk.', './kaploy-data'),
    admins: {
      type: 'array',
      items: { type: 'string' },
      default: ['root'],
      description: 'Users who may grant rights and add public environments.',
      message: 'expected a list of strings',
    },
    boot_dir: str('pxelinux.cfg directory the engine writes per-node profiles into.', './tftp/pxelinux.cfg'),
    pxe_file_naming: {
      type: 'string',
      enum: ['ip_hex', 'ip', 'hostname'],
      default: 'ip_hex',
      description: 'How per-node PXE files are named.',
    },
    image_dirs: {
      type: 'array',
      items: { type: 'string' },
      default: [],
      description: 'Directories whose files may be named as `server://PATH` images.',
      message: 'expected a list of strings',
    },
    ssh: section('How the engine reaches the nodes.', {
      key: str('The engine’s private key (created on first start).', './keys/engine'),
      user: str('User on the nodes.', 'root'),
      connect_timeout: int('Seconds to connect.', 10, 1, 3600),
      keepalive_interval: int('Seconds between keepalives.', 15, 1, 3600),
      max_channels: int('Channels at once on one connection.', 8, 1, 64),
    }),
    windows: section('Most nodes acted on at once.', {
      reboot: int('Reboots.', 50, 1, 100_000),
      check: int('Checks.', 50, 1, 100_000),
    }),
    extract_dir: str('Where the deploy partition is mounted in the deployment environment.', '/mnt/dest'),
    marker_port: int(
      'Port the deployment environment opens (tells it from the installed system).',
      25300,
      1,
      65535,
    ),
    wait_reboot: section('wait_reboot polling (Kadeploy: 20 s, then every 5 s).', {
      initial_delay_ms: int('Before the first probe, ms.', 20_000, 0, 3_600_000),
      poll_ms: int('Between probes, ms.', 5_000, 10, 600_000),
    }),
    production: section('Production environment, used by the OAR restore.', {
      environment: str('Its name.', 'prod-env'),
      user: str('Its owner.', 'deploy'),
    }),
    cache: section('The image cache and image downloads (docs/engine.md, image cache).', {
      max_bytes: int(
        'Bytes the cached images may take; the least recently used (never one in use) are evicted beyond it.',
        100 * 1024 ** 3,
        1024 ** 2,
        Number.MAX_SAFE_INTEGER,
      ),
      download_idle_timeout: int(
        'Seconds without an answer or a byte of the body before a download fails.',
        60,
        1,
        3600,
      ),
      download_timeout: int('Seconds one image download may take at most.', 3600, 1, 7 * 86400),
      max_redirects: int('Redirects an image URL may go through.', 5, 0, 20),
      cross_host_redirects: {
        type: 'boolean',
        default: false,
        description: 'Whether an image URL may redirect to another host (never to the engine itself).',
      },
    }),
    admission: section(
      'A site-wide bound on the operations (deployments, reboots, power) whose nodes are being worked on; beyond it, an operation whose checks passed waits its turn in order, `queued` (docs/engine.md, admission control).',
      {
        max_operations: int('Operations running at once; 0: no bound.', 0, 0, 1_000_000),
        max_nodes: int(
          'Nodes of running operations at once; 0: no bound. An operation of more nodes runs alone, once it is first in the queue and nothing else runs.',
          0,
          0,
          10_000_000,
        ),
      },
    ),
    clusters: {
      type: 'array',
      minItems: 1,
      items: CLUSTER,
      description: 'The clusters and their nodes.',
      message: { type: 'expected a non-empty list', minItems: 'expected a non-empty list' },
    },
    metrics: section('The engine’s Prometheus metrics, GET /metrics (docs/metrics.md).', {
      enabled: { type: 'boolean', default: true, description: 'Serve them.' },
      listen: {
        type: 'string',
        default: '',
        pattern: '^$|^(\\[[0-9A-Fa-f:.]+\\]|[0-9.]+):[0-9]{1,5}$',
        description:
          'ADDRESS:PORT (`10.0.0.1:9464`, `[::1]:9464`) of a listener of their own, without authentication: bind it to an admin address. Empty: served on the engine’s listener, to site administrators only (a scraper sends an admin token).',
        message: {
          pattern: 'expected ADDRESS:PORT with an IP address, e.g. 127.0.0.1:9464 or [::1]:9464 (or empty)',
        },
      },
    }),
    kadeploy_api: section('The Kadeploy 3.3-compatible REST API (docs/kadeploy-api.md): its own listener.', {
      enabled: { type: 'boolean', default: false, description: 'Serve it.' },
      host: str('Address; empty: the engine’s server.host.', ''),
      port: int('Its own port (0: any free port).', 25301, 0, 65535),
      prefix: {
        type: 'string',
        default: '',
        pattern: '^(/[A-Za-z0-9._~-]+){0,8}$',
        description: 'Path root the API is served under (`/kadeploy`), empty for `/`.',
        message: { pattern: 'expected a path such as /kadeploy (or empty)' },
      },
      trusted_proxies: {
        type: 'array',
        items: { type: 'string' },
        default: [],
        description:
          'Source addresses (IPv4/IPv6) whose `<header_prefix>User` header names the user (g5k-api); from any other address the header is refused.',
        message: 'expected a list of IP addresses',
      },
      header_prefix: {
        type: 'string',
        default: 'X-Kadeploy-',
        pattern: '^[A-Za-z][A-Za-z0-9-]{0,39}$',
        description:
          'Prefix of the identity header (`X-Kadeploy-User`), as GET /auth_headers_prefix tells clients.',
        message: { pattern: 'letters, digits and - only (an HTTP header name prefix)' },
      },
    }),
  },
};
