export type { PowerAction, PowerRequest } from '../../api/power-request.js';
export type { RebootKind, RebootRequest } from '../../api/reboot-request.js';
export type { NodeOpOutcome } from './node-op-outcome.js';
export { REBOOT } from './nodeop-kinds.js';
export { destructiveNodes, planReboot } from './reboot-service.js';
export { nodeOpsRoutes } from './routes-nodeops.js';
