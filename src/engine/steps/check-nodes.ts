import { probeNode } from '../boot/node-probe.js';
import type { MicroStepContext } from '../workflow/types.js';
import { forEachNode, ko } from './for-each-node.js';
import { runOnNode } from './node-exec.js';
import type { StepEnv } from './step-env.js';

/**
 * check_nodes (SetDeploymentEnvProd): the nodes already run an installed system (SSH answers,
 * deployment marker closed) and accept the engine's commands; the deployment then works from it.
 */
export function checkNodes(env: StepEnv, nodes: readonly string[], ctx: MicroStepContext) {
  return forEachNode(nodes, ctx, env.nodeConcurrency, async (node) => {
    const n = env.node(node);
    const state = await probeNode(
      n.address,
      env.cluster(node).sshPort,
      env.spec.site.markerPort,
      env.tuning.probeTimeoutMs,
      ctx.signal,
    );
    if (state === 'down') return ko('SSH port closed: the node is not up');
    if (state === 'deploy_env')
      return ko('the node runs the deployment environment, not an installed system');
    return runOnNode(env, ctx, node, 'true', { label: 'ssh' });
  });
}
