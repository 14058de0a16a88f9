// Reboots as the rest of the engine (the OAR restores) plans them.
export type { RebootRequest } from '../../api/reboot-request.js';
export { REBOOT } from './nodeop-kinds.js';
export { planReboot } from './reboot-service.js';
