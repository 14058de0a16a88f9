import { nodeCommands } from '../../formats/node-commands.js';
import type { MicroStepContext } from '../workflow/types.js';
import { forEachNode, OK } from './for-each-node.js';
import { runOnNode } from './node-exec.js';
import type { StepEnv } from './step-env.js';

const DEFAULT_FILESYSTEM = 'ext4';

/** format_deploy_part: mkfs of the deploy partition with the environment's file system (default ext4). */
export function formatDeployPart(env: StepEnv, nodes: readonly string[], ctx: MicroStepContext) {
  const fs = env.spec.env.filesystem ?? DEFAULT_FILESYSTEM;
  return forEachNode(nodes, ctx, env.nodeConcurrency, (node) =>
    runOnNode(env, ctx, node, nodeCommands.format(env.deployDevice(node), fs), { label: 'mkfs' }),
  );
}

/** format_tmp_part: mkfs of the tmp partition with the -r file system; nothing to do without -r. */
export function formatTmpPart(env: StepEnv, nodes: readonly string[], ctx: MicroStepContext) {
  const fs = env.spec.reformatTmp;
  return forEachNode(nodes, ctx, env.nodeConcurrency, async (node) => {
    if (!fs) return OK; // Kadeploy prunes this step without -r; the runner may still call it.
    return runOnNode(env, ctx, node, nodeCommands.format(env.partDevice(node, 'tmp'), fs), { label: 'mkfs' });
  });
}

/** format_swap_part: mkswap of the cluster's swap partition. */
export function formatSwapPart(env: StepEnv, nodes: readonly string[], ctx: MicroStepContext) {
  return forEachNode(nodes, ctx, env.nodeConcurrency, (node) =>
    runOnNode(env, ctx, node, nodeCommands.formatSwap(env.partDevice(node, 'swap')), { label: 'mkswap' }),
  );
}
