import type { ApiClient } from '../http-client.js';
import type { DeployRunOptions } from './run-options.js';

/** One site of a run and the nodes it deploys, in its own spelling of their names. */
interface PlannedSite {
  name: string;
  nodes: string[];
  /** Absent when the server could not be reached: `unreachable` says why, and its nodes are KO. */
  client?: ApiClient | undefined;
  unreachable?: string;
}

/** The sites of a run; `close` releases their clients once the run is over. */
export interface SitePlan {
  sites: PlannedSite[];
  close(): Promise<void>;
}

/** Decides the sites of a run (one configured server, or every server serving some node with -M). */
export type Sites = (o: DeployRunOptions, signal: AbortSignal) => Promise<SitePlan>;

/** Without -M: the one server, all the nodes (the engine says which it does not know). */
export function oneSite(client: ApiClient): Sites {
  return async (o) => ({
    sites: [{ name: client.serverName, nodes: o.nodes, client }],
    close: () => client.close(),
  });
}
