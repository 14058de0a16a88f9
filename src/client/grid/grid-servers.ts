import path from 'node:path';
import {
  type ClientConfig,
  clientConfigPath,
  loadClientConfig,
  requireServers,
  type ServerEntry,
} from '../client-config.js';

/** One configured server with the token file `kadeploy3 -M` uses for it. */
export interface GridServer {
  name: string;
  url: string;
  tokenFile: string;
  /** The entry's `ca` (an https engine's CA or pinned certificate). */
  caFile?: string;
  /** server_timeout of the client configuration, in ms (the ApiClient's default when absent). */
  deadlineMs?: number;
}

/**
 * Every configured server, in configuration order (the order decides which server a node known
 * to several belongs to). Each site's engine issues its own secrets, so one $KAPLOY_TOKEN_FILE
 * cannot serve every server: per server the token is `$KAPLOY_TOKEN_DIR/<name>` when that is
 * set, else the entry's own `token_file`, else $KAPLOY_TOKEN_FILE, else ~/.kaploy/tokens/<name>.
 */
export function gridServers(cfg: ClientConfig, env: NodeJS.ProcessEnv = process.env): GridServer[] {
  requireServers(cfg);
  return [...cfg.servers.values()].map((s) => ({
    name: s.name,
    url: s.url,
    tokenFile: tokenFileFor(s, env),
    ...(s.caFile ? { caFile: s.caFile } : {}),
    deadlineMs: cfg.serverTimeoutMs,
  }));
}

function tokenFileFor(s: ServerEntry, env: NodeJS.ProcessEnv): string {
  if (env.KAPLOY_TOKEN_DIR) return path.resolve(env.KAPLOY_TOKEN_DIR, s.name);
  if (s.tokenFileConfigured) return s.tokenFile;
  return env.KAPLOY_TOKEN_FILE ?? s.tokenFile;
}

/** The servers of the client configuration (`$KAPLOY_CLIENT_CONFIG` or ~/.kaploy/client.yaml): -M's sites. */
export function configuredGridServers(env: NodeJS.ProcessEnv = process.env): GridServer[] {
  return gridServers(loadClientConfig(clientConfigPath(env)), env);
}
