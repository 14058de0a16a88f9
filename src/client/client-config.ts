import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  adminReporter,
  type ConfigReporter,
  checkAgainstSchema,
  parseAdminYaml,
} from '../common/config/pipeline.js';
import { readConfigText } from '../common/config/read-file.js';
import { compileSchema } from '../common/config/schema.js';
import { KaployError } from '../common/errors.js';
import { CLIENT_SCHEMA, CLIENT_VALIDATOR } from './client-config-schema.js';
import { normaliseOargrid, type OargridConfig, type OargridSection } from './oargrid/oargrid-config.js';

/**
 * Client configuration read by every command: servers by name and a default, as in Kadeploy's
 * client config. `$KAPLOY_CLIENT_CONFIG` or `~/.kaploy/client.yaml`:
 *
 *   default: rennes
 *   servers:
 *     rennes: { url: http://127.0.0.1:25300, token_file: ~/.kaploy/tokens/rennes }
 *   server_timeout: 30      # seconds an engine may stay silent on one request
 *   oargrid:                # oargridsub's aliases (src/client/oargrid/oargrid-config.ts)
 *     aliases: { paradent: { site: rennes, cluster: paradent, access: ssh frontend.rennes } }
 *
 * `$KAPLOY_TOKEN_FILE` overrides the token file of whatever server is used.
 */
export interface ServerEntry {
  name: string;
  url: string;
  tokenFile: string;
  /** token_file was written in the configuration (not the default): `kadeploy3 -M` prefers it to $KAPLOY_TOKEN_FILE. */
  tokenFileConfigured: boolean;
  /** `ca`: the PEM file an https engine's certificate is verified against (absent: the system's CAs). */
  caFile?: string;
}
export interface ClientConfig {
  file: string;
  defaultServer: string;
  servers: Map<string, ServerEntry>;
  /** server_timeout in ms: the longest an engine may stay silent on one request (ApiClient's deadline). */
  serverTimeoutMs: number;
  /** `progress: false`: no live progress line even on a terminal. */
  progress: boolean;
  /** `exit_codes: kadeploy`: operations that ran exit 0 whatever their nodes' outcomes. */
  exitCodes: 'kaploy' | 'kadeploy';
  /** The `oargrid:` section, when the file has one. */
  oargrid?: OargridConfig;
}

const expandHome = (p: string) => (p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p);

/** The site-wide file, read when the user has none (Kadeploy reads /etc/kadeploy3/client_conf.yml). */
const SYSTEM_CLIENT_CONFIG = '/etc/kaploy/client.yaml';

/**
 * `$KAPLOY_CLIENT_CONFIG`, else `~/.kaploy/client.yaml` if it exists, else the site-wide
 * `/etc/kaploy/client.yaml` if it exists (so `ssh frontend kadeploy3 ...` works with no per-user
 * set-up), else the user's path, which the error then names.
 */
export function clientConfigPath(
  env: NodeJS.ProcessEnv = process.env,
  exists: (p: string) => boolean = existsSync,
  system = SYSTEM_CLIENT_CONFIG,
): string {
  if (env.KAPLOY_CLIENT_CONFIG) return env.KAPLOY_CLIENT_CONFIG;
  const user = path.join(os.homedir(), '.kaploy', 'client.yaml');
  return !exists(user) && exists(system) ? system : user;
}

/** A site that stops answering for this long is lost (reference §1 gives none; Kadeploy waited forever). */
export const DEFAULT_SERVER_TIMEOUT_S = 30;

const schema = compileSchema(CLIENT_SCHEMA, CLIENT_VALIDATOR);

interface ClientFile {
  default?: string;
  servers?: Record<string, { url: string; token_file?: string; ca?: string }>;
  server_timeout?: number;
  progress?: boolean;
  exit_codes?: 'kaploy' | 'kadeploy';
  oargrid?: OargridSection;
}

/** Read -> YAML -> schema (unknown keys refused) -> normalise (token paths) -> cross-field (default). */
export function loadClientConfig(file = clientConfigPath()): ClientConfig {
  const text = readConfigText(
    file,
    'the client configuration',
    "; set KAPLOY_CLIENT_CONFIG or source a testbed's env file",
  );
  const source = parseAdminYaml(text, file);
  const r: ConfigReporter = adminReporter(file, source);
  const doc = source.data ?? {};
  checkAgainstSchema(schema, doc, 'refuse', r);
  const f = doc as ClientFile;
  const servers = new Map<string, ServerEntry>();
  // A file of a user who only reserves with oargrid needs no server; the other commands then say
  // so when they pick one (pickServer, gridServers).
  if (f.servers === undefined && f.oargrid === undefined)
    r.fail(['servers'], 'required (the engines, by name), unless the file has an oargrid section');
  for (const [name, e] of Object.entries(f.servers ?? {})) {
    const tokenFile = e.token_file ?? `~/.kaploy/tokens/${name}`;
    servers.set(name, {
      name,
      url: e.url.replace(/\/+$/, ''),
      tokenFile: path.resolve(path.dirname(file), expandHome(tokenFile)),
      tokenFileConfigured: e.token_file !== undefined,
      ...(e.ca === undefined ? {} : { caFile: path.resolve(path.dirname(file), expandHome(e.ca)) }),
    });
  }
  const def = f.default ?? [...servers.keys()][0];
  if (f.servers !== undefined && (!def || !servers.has(def)))
    r.fail(['default'], `'${def ?? ''}' is not one of the servers`);
  if (f.servers === undefined && f.default !== undefined)
    r.fail(['default'], `'${f.default}' is not one of the servers (the file has none)`);
  return {
    file,
    defaultServer: def ?? '',
    servers,
    serverTimeoutMs: (f.server_timeout ?? DEFAULT_SERVER_TIMEOUT_S) * 1000,
    progress: f.progress ?? true,
    exitCodes: f.exit_codes ?? 'kaploy',
    ...(f.oargrid === undefined ? {} : { oargrid: normaliseOargrid(f.oargrid, file, r) }),
  };
}

/** The client configuration has no `servers:` (an oargrid-only file): what the other commands say. */
export function requireServers(cfg: ClientConfig): void {
  if (cfg.servers.size > 0) return;
  throw new KaployError(
    'KAPLOY_CONFIG',
    `${cfg.file} configures no server (no servers section): this command talks to an engine; only oargridsub, oargridstat and oargriddel work without one (docs/configuration.md)`,
    { file: cfg.file, key: 'servers' },
  );
}

export function pickServer(cfg: ClientConfig, name?: string): ServerEntry {
  requireServers(cfg);
  const s = cfg.servers.get(name ?? cfg.defaultServer);
  if (!s) {
    throw new KaployError(
      'KAPLOY_OPTION',
      `unknown server '${name}'; known: ${[...cfg.servers.keys()].join(', ')}`,
    );
  }
  return s;
}
