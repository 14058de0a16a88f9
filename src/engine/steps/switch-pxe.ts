import { type BootTarget, profileFileName, renderProfile } from '../../formats/pxe-profile.js';
import { writeProfileAtomic } from '../boot/write-profile.js';
import type { MicroStepContext, NodeResult } from '../workflow/types.js';
import { forEachNode, ko, OK } from './for-each-node.js';
import type { StepEnv } from './step-env.js';

/**
 * switch_pxe: points each node's PXE profile at what it must boot next: the deployment
 * environment (SetDeploymentEnv) or the deployed system's partition (BootNewEnv, chain-loading the
 * GRUB installed there by install_bootloader).
 */
function bootTargetFor(env: StepEnv, node: string, macro: MicroStepContext['macro']): BootTarget {
  if (macro === 'SetDeploymentEnv') {
    const d = env.cluster(node).deployEnv;
    return { kind: 'deploy_env', kernel: d.kernel, initrd: d.initrd, params: d.params };
  }
  return { kind: 'local', partition: env.deployPartition(node) };
}

export function switchPxe(
  env: StepEnv,
  nodes: readonly string[],
  ctx: MicroStepContext,
): Promise<Map<string, NodeResult>> {
  const site = env.spec.site;
  return forEachNode(nodes, ctx, env.nodeConcurrency, async (node) => {
    const target = bootTargetFor(env, node, ctx.macro);
    const file = profileFileName(site.pxeFileNaming, env.node(node));
    const text = renderProfile(target, `${ctx.wid} ${ctx.impl} ${node}`);
    try {
      await writeProfileAtomic(site.bootDir, file, text);
    } catch (e) {
      return ko(`cannot write PXE profile ${file}: ${(e as Error).message}`);
    }
    if (env.spec.debug) ctx.debug(node, `PXE profile ${file}: ${target.kind}`);
    return OK;
  });
}
