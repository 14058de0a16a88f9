import { createReadStream } from 'node:fs';
import { nodeCommands } from '../../formats/node-commands.js';
import type { MicroStepContext, NodeResult } from '../workflow/types.js';
import type { ArchiveSpec } from './deployment-spec.js';
import { forEachNode, OK } from './for-each-node.js';
import { runOnNode } from './node-exec.js';
import type { StepEnv } from './step-env.js';

/**
 * The KADEPLOY_* variables a pre/postinstall script gets (Kadeploy 3's names; the script runs in
 * the deployment environment, the deployed system being mounted on the extraction directory).
 */
function prepostVars(env: StepEnv, node: string): Record<string, string> {
  const s = env.spec;
  const c = env.cluster(node);
  return {
    KADEPLOY_CLUSTER: c.name,
    KADEPLOY_NODE: node,
    KADEPLOY_ENV: s.env.name,
    KADEPLOY_ENV_VERSION: String(s.env.version),
    KADEPLOY_OS_KIND: s.env.os,
    KADEPLOY_ENV_KERNEL: s.env.kernel ?? '',
    KADEPLOY_ENV_INITRD: s.env.initrd ?? '',
    KADEPLOY_ENV_KERNEL_PARAMS: s.env.kernelParams ?? '',
    KADEPLOY_BLOCK_DEVICE: c.partitioning.blockDevice,
    KADEPLOY_DEPLOY_PART: env.deployDevice(node),
    KADEPLOY_DEPLOY_PART_NUM: String(env.deployPartition(node)),
    KADEPLOY_SWAP_PART_NUM: String(c.partitioning.swap),
    KADEPLOY_PROD_PART_NUM: String(c.partitioning.prod),
    KADEPLOY_TMP_PART_NUM: String(c.partitioning.tmp),
    KADEPLOY_ENV_EXTRACTION_DIR: env.extractDir,
    KADEPLOY_PREPOST_EXTRACTION_DIR: env.tuning.prepostDir,
    KADEPLOY_USER: s.user,
  };
}

/** Streams each archive (in order) into the node and runs its script; the first failure is the node's. */
async function runArchives(
  env: StepEnv,
  ctx: MicroStepContext,
  node: string,
  archives: ArchiveSpec[],
): Promise<NodeResult> {
  for (const a of archives) {
    const cmd = nodeCommands.runPostinstall(
      a.compression,
      env.tuning.prepostDir,
      a.script,
      prepostVars(env, node),
    );
    const r = await runOnNode(env, ctx, node, cmd, {
      label: a.script === 'none' ? 'extraction' : `script ${a.script}`,
      stdin: createReadStream(a.path),
    });
    if (!r.ok) return r;
  }
  return OK;
}

/** manage_admin_post_install: the cluster's admin postinstall (site adaptations). */
export function manageAdminPostInstall(env: StepEnv, nodes: readonly string[], ctx: MicroStepContext) {
  return forEachNode(nodes, ctx, env.nodeConcurrency, (node) => {
    const p = env.cluster(node).adminPostinstall;
    return runArchives(
      env,
      ctx,
      node,
      p ? [{ path: p.archive, compression: p.compression, script: p.script }] : [],
    );
  });
}

/** manage_user_post_install: the environment's postinstalls, in order. */
export function manageUserPostInstall(env: StepEnv, nodes: readonly string[], ctx: MicroStepContext) {
  return forEachNode(nodes, ctx, env.nodeConcurrency, (node) =>
    runArchives(env, ctx, node, env.spec.env.postinstalls),
  );
}

/** manage_preinstall: the environment's preinstall, in the deployment environment before partitioning. */
export function managePreinstall(env: StepEnv, nodes: readonly string[], ctx: MicroStepContext) {
  const p = env.spec.env.preinstall;
  return forEachNode(nodes, ctx, env.nodeConcurrency, (node) => runArchives(env, ctx, node, p ? [p] : []));
}
