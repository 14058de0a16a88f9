import type { ResumePoint } from './breakpoint.js';
import type { NodeOutcome } from './types.js';

/** The resume point recorded in a `breakpoint` outcome (undefined for any other outcome). */
export function resumePointOf(o: NodeOutcome): ResumePoint | undefined {
  if (o.status !== 'breakpoint' || !o.macro || !o.impl || !o.micro) return undefined;
  return { macro: o.macro, impl: o.impl, micro: o.micro };
}
