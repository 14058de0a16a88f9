import { nodeCommands } from '../../formats/node-commands.js';
import type { MicroStepContext } from '../workflow/types.js';
import { forEachNode } from './for-each-node.js';
import { runOnNode } from './node-exec.js';
import type { StepEnv } from './step-env.js';

/** mount_deploy_part: the deploy partition on the site's extraction directory (/mnt/dest). */
export function mountDeployPart(env: StepEnv, nodes: readonly string[], ctx: MicroStepContext) {
  return forEachNode(nodes, ctx, env.nodeConcurrency, (node) =>
    runOnNode(env, ctx, node, nodeCommands.mount(env.deployDevice(node), env.extractDir), { label: 'mount' }),
  );
}

/** umount_deploy_part: before rebooting onto it. */
export function umountDeployPart(env: StepEnv, nodes: readonly string[], ctx: MicroStepContext) {
  return forEachNode(nodes, ctx, env.nodeConcurrency, (node) =>
    runOnNode(env, ctx, node, nodeCommands.umount(env.extractDir), { label: 'umount' }),
  );
}

/** sync: flush the node's write caches before a reboot or kexec. */
export function syncNodes(env: StepEnv, nodes: readonly string[], ctx: MicroStepContext) {
  return forEachNode(nodes, ctx, env.nodeConcurrency, (node) =>
    runOnNode(env, ctx, node, nodeCommands.sync(), { label: 'sync' }),
  );
}
