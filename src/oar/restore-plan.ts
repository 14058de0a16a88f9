/**
 * How to bring a node back to production after a deploy job, from the engine's record of it
 * (src/deploy/store/nodes-repo.ts NodeRow). Kadeploy's way (`kareboot3 -r recorded_env -c`, refused
 * when the last environment is destructive): a non-destructive environment only wrote the deploy
 * partition, so the recorded production system is still on its own partition and a reboot onto it
 * is enough; if the node does not come up in production that way, a full redeployment follows.
 * A destructive environment (or a node the engine knows nothing of) needs the full redeployment.
 */
export type RestoreStep = 'reboot' | 'deploy';

export interface RestorePlan {
  steps: RestoreStep[];
  why: string;
}

export interface NodeRecord {
  state: string;
  env: string;
  destructive: number | boolean;
}

export function restorePlan(node: NodeRecord | undefined): RestorePlan {
  if (node === undefined) return { steps: ['deploy'], why: 'the engine has no record of the node' };
  if (node.destructive === true || node.destructive === 1) {
    return { steps: ['deploy'], why: `last environment ${node.env || '(unnamed)'} is destructive` };
  }
  const last = node.env
    ? `last environment ${node.env} is not destructive`
    : 'no environment deployed by a user';
  return {
    steps: ['reboot', 'deploy'],
    why: `${last} (state ${node.state}): reboot onto production, redeploy it if that fails`,
  };
}

export type StepOutcome = { ok: true } | { ok: false; reason: string };
export type StepRunner = (signal: AbortSignal) => Promise<StepOutcome>;

/**
 * Runs the plan's steps in order until one succeeds. Each step reports failure as a value; a
 * thrown error counts as that step's failure. Stops at once when the signal aborts.
 */
export async function runRestorePlan(
  plan: RestorePlan,
  runners: Record<RestoreStep, StepRunner>,
  signal: AbortSignal,
): Promise<{ ok: true; via: RestoreStep } | { ok: false; reason: string }> {
  const reasons: string[] = [];
  for (const step of plan.steps) {
    if (signal.aborted) break;
    let out: StepOutcome;
    try {
      out = await runners[step](signal);
    } catch (e) {
      out = { ok: false, reason: (e as Error).message };
    }
    if (out.ok) return { ok: true, via: step };
    reasons.push(`${step}: ${out.reason}`);
  }
  if (signal.aborted) reasons.push('cancelled');
  return { ok: false, reason: reasons.join('; ') };
}
