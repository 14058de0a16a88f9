/**
 * How to bring a node back to production after a deploy job, from the engine's record of it
 * (src/engine/store/nodes-repo.ts NodeRow). Kadeploy's way (`kareboot3 -r recorded_env -c`, refused
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

export type RestoreResult = { ok: true; via: RestoreStep } | { ok: false; reason: string };

/** One step for several nodes at once (one operation): an outcome per node; a missing one is a failure. */
export type GroupStepRunner = (
  nodes: readonly string[],
  signal: AbortSignal,
) => Promise<ReadonlyMap<string, StepOutcome>>;

/**
 * Runs the plans of several nodes with one operation per step: nodes with the same steps go
 * together (a lane), and each lane runs its first step for all its nodes, its next step for the
 * nodes the previous one did not restore, and so on. Lanes run side by side (a group of nodes
 * whose last environment is destructive is redeployed while the others are rebooted). Results are
 * reported as soon as they are known, the nodes a step restored in one call (a node rebooted onto
 * production does not wait for another one's redeployment); a thrown step counts as that step's
 * failure for each of its nodes.
 * Stops at once when the signal aborts: the nodes left are reported failed ("cancelled").
 */
export async function runGroupRestorePlan(
  items: readonly { node: string; plan: RestorePlan }[],
  runners: Record<RestoreStep, GroupStepRunner>,
  signal: AbortSignal,
  report: (nodes: readonly string[], result: RestoreResult) => void,
): Promise<void> {
  const lanes = new Map<string, { steps: RestoreStep[]; nodes: string[] }>();
  for (const { node, plan } of items) {
    const key = plan.steps.join(',');
    const lane = lanes.get(key) ?? { steps: plan.steps, nodes: [] };
    if (!lane.nodes.includes(node)) lane.nodes.push(node);
    lanes.set(key, lane);
  }
  await Promise.all(
    [...lanes.values()].map(async ({ steps, nodes }) => {
      const reasons = new Map<string, string[]>(nodes.map((n) => [n, []]));
      let left = nodes;
      for (const step of steps) {
        if (signal.aborted || left.length === 0) break;
        let out: ReadonlyMap<string, StepOutcome>;
        try {
          out = await runners[step](left, signal);
        } catch (e) {
          const reason = (e as Error).message;
          out = new Map(left.map((n) => [n, { ok: false, reason }]));
        }
        const failed: string[] = [];
        const restored: string[] = [];
        for (const n of left) {
          const o = out.get(n) ?? { ok: false, reason: 'no outcome' };
          if (o.ok) restored.push(n);
          else {
            reasons.get(n)?.push(`${step}: ${o.reason}`);
            failed.push(n);
          }
        }
        if (restored.length > 0) report(restored, { ok: true, via: step });
        left = failed;
      }
      for (const n of left) {
        const r = reasons.get(n) ?? [];
        if (signal.aborted) r.push('cancelled');
        report([n], { ok: false, reason: r.join('; ') });
      }
    }),
  );
}
