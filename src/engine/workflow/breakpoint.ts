import { KaployError } from '../../common/errors.js';
import { isImplementation } from '../../formats/macro-steps.js';
import { plannedSteps } from './micro-steps.js';
import {
  type Implementation,
  MACRO_STEPS,
  type MacroStep,
  type MicroStep,
  type WorkflowPlan,
} from './types.js';
import type { WorkflowOptions } from './workflow-options.js';

/**
 * `--breakpoint MACRO[:micro]`: MACRO is an implementation (`BroadcastEnvKastafior`) or a macro-step
 * (`BroadcastEnv`, any of its implementations). Without micro, nodes stop before the first micro-step.
 */
export interface Breakpoint {
  /** Implementation or macro-step name, as given. */
  step: Implementation | MacroStep;
  micro?: MicroStep;
}

/** Where a node stopped at a breakpoint: what `resumeFrom` takes to continue from exactly there. */
export interface ResumePoint {
  macro: MacroStep;
  impl: Implementation;
  micro: MicroStep;
}

const SYNTAX = /^(\w+)(?::(\w+))?$/; // Kadeploy's ^\w+(?::\w+)?$

/** Parses and checks the breakpoint against the steps this workflow will run (after resolvePlan). */
export function parseBreakpoint(text: string, plan: WorkflowPlan, opts: WorkflowOptions): Breakpoint {
  const m = SYNTAX.exec(text);
  const fail = (msg: string): never => {
    throw new KaployError('KAPLOY_OPTION', `Invalid --breakpoint '${text}': ${msg}`, {
      key: 'breakpoint',
      step: text,
    });
  };
  if (!m) return fail('expected MACRO[:micro], e.g. BroadcastEnvKastafior:manage_user_post_install');
  const [, step = '', micro] = m;
  if (!isImplementation(step) && !(MACRO_STEPS as readonly string[]).includes(step)) {
    fail(`'${step}' is neither a macro-step (${MACRO_STEPS.join(', ')}) nor an implementation`);
  }
  const planned = plannedSteps(plan, opts).filter((p) => p.impl === step || p.macro === step);
  if (planned.length === 0) fail(`this workflow does not run ${step}`);
  if (micro !== undefined && !planned.some((p) => p.micro === micro)) {
    fail(
      `the workflow does not run the micro-step '${micro}' in ${step} (it runs: ${[...new Set(planned.map((p) => p.micro))].join(', ')})`,
    );
  }
  return micro === undefined
    ? { step: step as Breakpoint['step'] }
    : { step: step as Breakpoint['step'], micro: micro as MicroStep };
}

/** Whether a node about to run `steps[index]` of `impl` (in `macro`) must stop there. */
export function hitsBreakpoint(
  bp: Breakpoint | undefined,
  macro: MacroStep,
  impl: Implementation,
  steps: readonly MicroStep[],
  index: number,
): boolean {
  if (bp === undefined || (bp.step !== impl && bp.step !== macro)) return false;
  if (bp.micro === undefined) return index === 0;
  // First occurrence only: a micro-step listed twice stops once.
  return steps.indexOf(bp.micro) === index;
}

/** Checks a resume point against a resolved plan; returns the instance index and micro-step index. */
export function locateResume(
  at: ResumePoint,
  plan: WorkflowPlan,
  stepsOf: (impl: Implementation) => readonly MicroStep[],
): { macroIndex: number; instanceIndex: number; microIndex: number } {
  const macroIndex = MACRO_STEPS.indexOf(at.macro);
  const instanceIndex = plan[at.macro]?.findIndex((i) => i.impl === at.impl) ?? -1;
  const where = `${at.impl}:${at.micro}`;
  if (macroIndex < 0 || instanceIndex < 0) {
    throw new KaployError(
      'KAPLOY_OPTION',
      `Cannot resume from ${where}: this workflow does not run ${at.impl}`,
      {
        step: where,
      },
    );
  }
  const microIndex = stepsOf(at.impl).indexOf(at.micro);
  if (microIndex < 0) {
    throw new KaployError(
      'KAPLOY_OPTION',
      `Cannot resume from ${where}: ${at.impl} does not run ${at.micro} with these options`,
      { step: where },
    );
  }
  return { macroIndex, instanceIndex, microIndex };
}
