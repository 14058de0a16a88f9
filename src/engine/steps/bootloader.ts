import path from 'node:path';
import { grubConfig, nodeCommands } from '../../formats/node-commands.js';
import type { MicroStepContext } from '../workflow/types.js';
import { forEachNode, ko } from './for-each-node.js';
import { runOnNode } from './node-exec.js';
import type { StepEnv } from './step-env.js';

/**
 * install_bootloader: writes /boot/grub/grub.cfg into the deployed system (booting its kernel from
 * the deploy partition), then installs GRUB in the MBR pointing at it, in one command per node.
 * The PXE profile of BootNewEnv chain-loads this partition's GRUB.
 */
export function installBootloader(env: StepEnv, nodes: readonly string[], ctx: MicroStepContext) {
  const e = env.spec.env;
  const bootDir = path.posix.join(env.extractDir, 'boot');
  return forEachNode(nodes, ctx, env.nodeConcurrency, async (node) => {
    if (!e.kernel) return ko('the environment names no kernel to boot');
    const cfg = grubConfig(e.name, e.kernel, e.initrd, env.deployDevice(node), e.kernelParams ?? '');
    // One command per node (the grub.cfg write and grub-install joined by &&): one round trip.
    return runOnNode(
      env,
      ctx,
      node,
      `${nodeCommands.writeFile(path.posix.join(bootDir, 'grub', 'grub.cfg'))} && ${nodeCommands.installBootloader(bootDir, env.blockDevice(node))}`,
      { label: 'grub.cfg + grub-install', stdin: cfg },
    );
  });
}
