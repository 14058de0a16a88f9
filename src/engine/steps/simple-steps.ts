import { setTimeout as sleep } from 'node:timers/promises';
import type { MicroStepContext, NodeResult } from '../workflow/types.js';
import { ko, OK } from './for-each-node.js';
import type { StepEnv } from './step-env.js';

/**
 * set_vlan: this engine has no VLAN switch driver; without --vlan there is nothing to do (Kadeploy
 * prunes the step), with one every node fails clearly rather than landing in the wrong VLAN.
 */
export async function setVlan(
  env: StepEnv,
  nodes: readonly string[],
  _ctx: MicroStepContext,
): Promise<Map<string, NodeResult>> {
  const vlan = env.spec.vlan;
  const r: NodeResult =
    vlan === undefined ? OK : ko(`VLAN ${vlan} requested but VLAN switching is not supported on this site`);
  return new Map(nodes.map((n) => [n, r]));
}

/** dummy: the *Dummy implementations do nothing for a moment. */
export async function dummy(
  env: StepEnv,
  nodes: readonly string[],
  ctx: MicroStepContext,
): Promise<Map<string, NodeResult>> {
  let r: NodeResult = OK;
  try {
    await sleep(env.tuning.dummyMs, undefined, { signal: ctx.signal });
  } catch {
    r = ko('aborted');
  }
  return new Map(nodes.map((n) => [n, r]));
}
