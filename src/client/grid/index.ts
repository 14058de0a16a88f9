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
export { gridOutputs } from './grid-output.js';
export { type GridServer, gridServers } from './grid-servers.js';
export { gridSites } from './grid-sites.js';
export { type GridDescription, loadDescription } from './load-description.js';
export { prefixedLines, serverPrefix } from './server-prefix.js';
