import type { PlanKind } from '../operations/operation-kind.js';
import { type NodeOpOutcome, statsRows, toApiOutcome } from './node-op-outcome.js';

/** Reboots (R-) and power operations (P-): one step per node, statistics rows with only step1. */
function nodeOpKind(
  name: 'reboot' | 'power',
  prefix: 'R' | 'P',
  title: string,
  defaultImpl: string,
): PlanKind<NodeOpOutcome> {
  return {
    name,
    prefix,
    title,
    noun: `${name} operation`,
    busyWith: 'an operation',
    failedState: `${name}_failed`,
    listsFinished: false,
    unfinished: (node, u, request) => {
      // The planners store the implementation with the request (the statistics' step1).
      const impl = (request as { impl?: unknown } | undefined)?.impl;
      return {
        node,
        status: u.status,
        step: typeof impl === 'string' ? impl : defaultImpl,
        reason: u.reason,
        retries: 0,
        timeoutSec: 0,
        durationMs: u.durationMs,
      };
    },
    view: (o) => ({
      macro: o.step,
      ...(o.micro ? { micro: o.micro } : {}),
      state: o.status,
      ...(o.reason ? { error: o.reason } : {}),
    }),
    toApi: toApiOutcome,
    statsRows: (outcomes, m) => statsRows(outcomes, { ...m, operation: name }),
  };
}

export const REBOOT = nodeOpKind('reboot', 'R', 'Reboot', 'Simple');
export const POWER = nodeOpKind('power', 'P', 'Power operation', 'Status');
