import type { Sites } from '../deploy/site-plan.js';
import { gridPlan } from './grid-plan.js';
import type { GridServer } from './grid-servers.js';

/** `kadeploy3 -M`'s sites: the grid plan of its nodes (gridPlan), warnings through the run's. */
export function gridSites(servers: readonly GridServer[]): Sites {
  return (o, signal) => gridPlan(servers, signal, { nodes: o.nodes, ...(o.warn ? { warn: o.warn } : {}) });
}
