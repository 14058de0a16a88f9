export { buildApp, type EnginePlugin, ROUTE_PLUGINS } from './app.js';
export type { EngineContext } from './context.js';
export { defaultSiteConfig } from './default-config.js';
export { notFound, statusOf, withStatus } from './http-errors.js';
export { type OperationKind, OperationRegistry, type RunningOperation } from './operations-registry.js';
export type { RequestUser } from './request-user.js';
export { INITIAL_NODE_STATE, type RunningServer, type StartOptions, startServer } from './start.js';
