import { nodeCommands } from '../../formats/node-commands.js';
import type { ExecResult } from '../ssh/types.js';
import type { MicroStepContext } from '../workflow/types.js';
import { forEachNode, OK } from './for-each-node.js';
import { execFailure, execOptions, execOutcome, type NodeExecOptions, runOnNode } from './node-exec.js';
import type { StepEnv } from './step-env.js';

/**
 * send_key_in_deploy_env: first login to the freshly booted deployment environment, learning its
 * host key (trust on first use: it was generated at boot), then appending the user's -k keys so
 * the user can log into the deployment environment (e.g. at a breakpoint).
 */
export function sendKeyInDeployEnv(env: StepEnv, nodes: readonly string[], ctx: MicroStepContext) {
  const keys = env.spec.keys;
  return forEachNode(nodes, ctx, env.nodeConcurrency, (node) =>
    keys
      ? runOnNode(env, ctx, node, nodeCommands.appendAuthorizedKeys(''), {
          label: 'authorized_keys',
          stdin: keys,
          trustOnFirstUse: true,
        })
      : runOnNode(env, ctx, node, 'true', { label: 'ssh', trustOnFirstUse: true }),
  );
}

/** send_key: the -k keys become root's authorized_keys in the deployed system. */
export function sendKey(env: StepEnv, nodes: readonly string[], ctx: MicroStepContext) {
  const keys = env.spec.keys;
  return forEachNode(nodes, ctx, env.nodeConcurrency, async (node) => {
    if (!keys) return OK; // no -k: Kadeploy prunes this step.
    const command = nodeCommands.replaceAuthorizedKeys(env.extractDir);
    const o: NodeExecOptions = { label: 'authorized_keys', stdin: keys };
    // The SSH exec itself, here: the spine from kadeploy3 -k ends on this call (docs/architecture.md).
    let r: ExecResult;
    try {
      r = await env.pool.exec(env.target(node), command, execOptions(env, ctx, node, command, o));
    } catch (e) {
      return execFailure(env, ctx, node, o.label, e).result;
    }
    return execOutcome(env, ctx, node, o.label, r).result;
  });
}
