export { type Assignment, assignNodes, type ServerNodes } from './assign-nodes.js';
export {
  type Discovery,
  type DroppedServer,
  discoverServers,
  type LiveServer,
  PROBE_TIMEOUT_MS,
} from './discover-servers.js';
export { fetchKeys, isUrl } from './fetch-keys.js';
export { GRID_SITE_CONCURRENCY, gridDeploy } from './grid-deploy.js';
export type { GridDeployOptions, GridEnvironment, GridResult, SiteOutcome } from './grid-options.js';
export { type GridServer, gridServers } from './grid-servers.js';
export { prefixedLines, serverPrefix } from './server-prefix.js';
