// The deployment steps as the deployment service (and the broadcast bench) uses them.
export type { EnvironmentSpec, NodeShell } from './deployment-spec.js';
export { createStepTable } from './step-table.js';
