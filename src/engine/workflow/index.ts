/** The deployment workflow runner and its pure helpers (plans, timeouts, micro-steps, rendering). */

export { formatPlan, parseAutomata, parseForceSteps } from '../../formats/force-steps.js';
export { IMPLEMENTATIONS, isImplementation, macroOfImpl } from '../../formats/macro-steps.js';
export { type Breakpoint, hitsBreakpoint, parseBreakpoint, type ResumePoint } from './breakpoint.js';
export type { WorkflowEvent, WorkflowEventKind } from './events.js';
export { exitCodeForOutcomes } from './exit-code.js';
export { foldNodes } from './fold-nodes.js';
export {
  BASE_MICRO_STEPS,
  microSteps,
  type PlannedStep,
  type PrunedSteps,
  plannedSteps,
  pruneMicroSteps,
} from './micro-steps.js';
export { type RenderOptions, renderEvent } from './render-event.js';
export { renderSummary } from './render-summary.js';
export { type ResolvedPlan, resolvePlan } from './resolve-plan.js';
export { resumePointOf } from './resume-point.js';
export { type RunWorkflowParams, runWorkflow } from './runner.js';
export { type StepStats, stepStats } from './step-stats.js';
export { evalTimeout, parseTimeoutExpr, type TimeoutExpr, timeoutMs } from './timeout-expr.js';
export * from './types.js';
export { createWindow, type Window } from './window.js';
export type { WorkflowOptions } from './workflow-options.js';
