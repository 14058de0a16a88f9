import { nodeCommands } from '../../formats/node-commands.js';
import type { MicroStepContext } from '../workflow/types.js';
import { deployedBootFiles } from './boot-files.js';
import { forEachNode, ko } from './for-each-node.js';
import { runOnNode } from './node-exec.js';
import type { StepEnv } from './step-env.js';

/** check_kernel_files: the environment's kernel (and initrd) exist in the extracted system. */
export function checkKernelFiles(env: StepEnv, nodes: readonly string[], ctx: MicroStepContext) {
  const f = deployedBootFiles(env);
  const files = [f.kernel, f.initrd].filter((x): x is string => x !== undefined);
  return forEachNode(nodes, ctx, env.nodeConcurrency, async (node) => {
    if (files.length === 0) return ko('the environment names no kernel to boot');
    const r = await runOnNode(env, ctx, node, nodeCommands.checkFiles(files), { label: 'test' });
    return r.ok ? r : ko(`kernel files missing in the deployed system: ${files.join(' ')}`);
  });
}
