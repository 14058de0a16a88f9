import type { OperationOutcome } from '../../api/operation-status.js';
import type { NodeOutcome } from '../workflow/types.js';
import type { PlanKind } from './operation-kind.js';
import { statsRowsFromOutcomes } from './stats-rows.js';

function toApiOutcome(o: NodeOutcome): OperationOutcome {
  return {
    node: o.node,
    status: o.status,
    ...(o.impl ? { impl: o.impl } : {}),
    ...(o.micro ? { micro: o.micro } : {}),
    ...(o.reason ? { reason: o.reason } : {}),
    ...(o.code ? { code: o.code } : {}),
  };
}

/** Deployments (D-): workflow outcomes, per macro-step statistics rows. */
export const DEPLOY: PlanKind<NodeOutcome> = {
  name: 'deploy',
  prefix: 'D',
  title: 'Deployment',
  noun: 'deployment',
  busyWith: 'deployment',
  failedState: 'deploy_failed',
  // GET /deployment has always listed the finished deployments the engine still holds.
  listsFinished: true,
  unfinished: (node, u) => ({
    node,
    status: u.status,
    reason: u.reason,
    attempts: 0,
    durationMs: 0,
    steps: {},
  }),
  view: (o) => ({
    ...(o.macro ? { macro: o.macro } : {}),
    ...(o.micro ? { micro: o.micro } : {}),
    state: o.status,
    ...(o.reason ? { error: o.reason } : {}),
  }),
  toApi: toApiOutcome,
  statsRows: statsRowsFromOutcomes,
};
