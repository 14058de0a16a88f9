export { type Assignment, assignNodes, type ServerNodes } from './assign-nodes.js';
export {
  type Discovery,
  type DroppedServer,
  discoverServers,
  type LiveServer,
  PROBE_TIMEOUT_MS,
} from './discover-servers.js';
export { fetchKeys } from './fetch-keys.js';
export { fetchText, isUrl } from './fetch-text.js';
export { GRID_SITE_CONCURRENCY, gridDeploy } from './grid-deploy.js';
export type {
  GridDeployOptions,
  GridEnvironment,
  GridResult,
  SiteEnvironment,
  SiteOutcome,
} from './grid-options.js';
export { type GridServer, gridServers } from './grid-servers.js';
export { type GridDescription, loadDescription } from './load-description.js';
export { prefixedLines, serverPrefix } from './server-prefix.js';
