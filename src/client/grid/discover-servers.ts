import pMap from 'p-map';
import { errorMessage } from '../../common/errors.js';
import { readPemFile } from '../../common/pem-file.js';
import { readToken } from '../../common/token-file.js';
import { ApiClient } from '../http-client.js';
import { checkEngineVersion } from './engine-version.js';
import type { GridServer } from './grid-servers.js';

/** Reference §1: a server that does not answer GET /version within 5 s is dropped. */
const PROBE_TIMEOUT_MS = 5_000;
/** Servers asked at once (a grid has a handful of sites; this only caps a runaway config). */
const DISCOVERY_CONCURRENCY = 16;

/** A server that answered: its client (the caller closes it) and the names of its nodes. */
export interface LiveServer {
  name: string;
  client: ApiClient;
  nodes: string[];
}
/** A server left out of this run, and why (shown as a warning). */
export interface DroppedServer {
  name: string;
  reason: string;
}
export interface Discovery {
  live: LiveServer[];
  dropped: DroppedServer[];
}

/**
 * Asks every configured server, concurrently, whether it answers as a kaploy engine of this API
 * version and (unless `listNodes: false`) which nodes it serves. A server without credentials,
 * unreachable, answering garbage or another API version, or refusing the caller is dropped,
 * never fatal: the other sites can still work. Order of `live` is configuration order.
 */
export async function discoverServers(
  servers: readonly GridServer[],
  signal: AbortSignal,
  o: { probeTimeoutMs?: number; listNodes?: boolean } = {},
): Promise<Discovery> {
  const found = await pMap(
    servers,
    async (s): Promise<LiveServer | DroppedServer> => {
      let token: string;
      let ca: Buffer | undefined;
      try {
        token = readToken(s.tokenFile);
        ca = s.caFile ? readPemFile(s.caFile, `the CA of server ${s.name} (ca)`) : undefined;
      } catch (e) {
        return { name: s.name, reason: errorMessage(e) };
      }
      const client = new ApiClient({
        url: s.url,
        token,
        serverName: s.name,
        ...(s.deadlineMs !== undefined ? { deadlineMs: s.deadlineMs } : {}),
        ...(ca ? { ca } : {}),
      });
      try {
        const version = await client.request<unknown>('GET', '/version', {
          signal,
          timeoutMs: o.probeTimeoutMs ?? PROBE_TIMEOUT_MS,
        });
        checkEngineVersion(version, s.name);
        if (o.listNodes === false) return { name: s.name, client, nodes: [] };
        // Bounded by the client's silence deadline (server_timeout), as every request.
        const nodes = await client.request<unknown>('GET', '/nodes', { query: { list: true }, signal });
        if (!Array.isArray(nodes) || !nodes.every((n) => typeof n === 'string')) {
          throw new Error('GET /nodes?list=true did not answer a list of node names');
        }
        return { name: s.name, client, nodes };
      } catch (e) {
        await client.close();
        return { name: s.name, reason: errorMessage(e) };
      }
    },
    // No signal here: every mapper settles (requests carry the signal), so no client is leaked.
    { concurrency: DISCOVERY_CONCURRENCY },
  );
  const live = found.filter((x): x is LiveServer => 'client' in x);
  if (signal.aborted) {
    await Promise.all(live.map((l) => l.client.close()));
    throw signal.reason;
  }
  return { live, dropped: found.filter((x): x is DroppedServer => !('client' in x)) };
}
