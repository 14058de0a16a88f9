export type { NodeOpOutcome } from './node-op-outcome.js';
export { nodeOpsServices, rebootNodes, startPower, startReboot } from './nodeops-services.js';
export type { PowerAction, PowerRequest } from './power-request.js';
export type { RebootKind, RebootRequest } from './reboot-request.js';
export { destructiveNodes } from './reboot-service.js';
export { nodeOpsRoutes } from './routes-nodeops.js';
