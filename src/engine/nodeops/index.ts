export type { PowerAction, PowerRequest } from '../../api/power-request.js';
export type { RebootKind, RebootRequest } from '../../api/reboot-request.js';
export type { NodeOpOutcome } from './node-op-outcome.js';
export { nodeOpsServices, rebootNodes, startPower, startReboot } from './nodeops-services.js';
export { destructiveNodes } from './reboot-service.js';
export { nodeOpsRoutes } from './routes-nodeops.js';
