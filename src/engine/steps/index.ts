export {
  type ArchiveSpec,
  DEFAULT_TUNING,
  type DeploymentSpec,
  type EnvironmentSpec,
  type NodeShell,
  type StepDeps,
  type StepTuning,
} from './deployment-spec.js';
export { createStepExecutor } from './executor.js';
export { prepostVars } from './postinstall.js';
export { type BroadcastMethod, broadcastMethodOf } from './send-environment.js';
