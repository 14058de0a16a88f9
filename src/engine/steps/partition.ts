import { nodeCommands, partitionScript } from '../../formats/node-commands.js';
import type { MicroStepContext } from '../workflow/types.js';
import { forEachNode } from './for-each-node.js';
import { runOnNode } from './node-exec.js';
import type { StepEnv } from './step-env.js';

/** create_partition_table: the cluster's standard layout (swap, prod, deploy, extended, tmp) via sfdisk. */
export function createPartitionTable(env: StepEnv, nodes: readonly string[], ctx: MicroStepContext) {
  return forEachNode(nodes, ctx, env.nodeConcurrency, (node) => {
    const p = env.cluster(node).partitioning;
    return runOnNode(env, ctx, node, nodeCommands.createPartitionTable(p.blockDevice), {
      label: 'sfdisk',
      stdin: partitionScript(p),
    });
  });
}
