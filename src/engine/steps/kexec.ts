import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { nodeCommands } from '../../formats/node-commands.js';
import { isSshError } from '../ssh/ssh-error.js';
import type { MicroStepContext, NodeResult } from '../workflow/types.js';
import { deployedAppend, deployedBootFiles } from './boot-files.js';
import { errorReason, exitReason } from './failure-reason.js';
import { forEachNode, ko, OK } from './for-each-node.js';
import { runOnNode } from './node-exec.js';
import type { StepEnv } from './step-env.js';

/** Where the deployment kernel lands on a node (send_deployment_kernel) and is kexec'd from. */
function deployKernelOnNode(
  env: StepEnv,
  node: string,
): { kernel: string; initrd: string; local: { kernel: string; initrd: string } } {
  const d = env.cluster(node).deployEnv;
  // Profiles name kernels relative to the TFTP root, the parent of pxelinux.cfg.
  const tftpRoot = path.dirname(env.spec.site.bootDir);
  return {
    kernel: path.posix.join(env.tuning.deployKernelDir, path.posix.basename(d.kernel)),
    initrd: path.posix.join(env.tuning.deployKernelDir, path.posix.basename(d.initrd)),
    local: { kernel: path.join(tftpRoot, d.kernel), initrd: path.join(tftpRoot, d.initrd) },
  };
}

/** send_deployment_kernel: copies the deployment kernel and initrd onto the running production system. */
export function sendDeploymentKernel(env: StepEnv, nodes: readonly string[], ctx: MicroStepContext) {
  return forEachNode(nodes, ctx, env.nodeConcurrency, async (node) => {
    const k = deployKernelOnNode(env, node);
    for (const [local, remote] of [
      [k.local.kernel, k.kernel],
      [k.local.initrd, k.initrd],
    ] as const) {
      try {
        await access(local);
      } catch {
        return ko(`deployment kernel file ${local} is not readable on the server`);
      }
      const r = await runOnNode(env, ctx, node, nodeCommands.writeFile(remote), {
        label: 'copy',
        stdin: createReadStream(local),
      });
      if (!r.ok) return r;
    }
    return OK;
  });
}

/** Runs `kexec -e`: the node jumps into the loaded kernel, so the connection dropping is success. */
async function kexecExec(env: StepEnv, ctx: MicroStepContext, node: string): Promise<NodeResult> {
  try {
    const r = await env.pool.exec(env.target(node), nodeCommands.kexecExec(), {
      signal: ctx.signal,
      timeoutMs: env.tuning.powerCommandTimeoutMs,
    });
    if (r.exitCode !== 0) return ko(exitReason('kexec', r));
  } catch (e) {
    if (!isSshError(e, 'connection_lost')) return ko(errorReason('kexec', e));
  } finally {
    env.pool.forget(node);
  }
  return OK;
}

/**
 * kexec: loads and jumps into the next kernel without a firmware reboot: the deployed system's
 * (BootNewEnvKexec, from the mounted deploy partition) or the deployment environment's
 * (SetDeploymentEnvKexec, copied by send_deployment_kernel).
 */
export function kexec(env: StepEnv, nodes: readonly string[], ctx: MicroStepContext) {
  return forEachNode(nodes, ctx, env.nodeConcurrency, async (node) => {
    let load: string;
    if (ctx.macro === 'SetDeploymentEnv') {
      const k = deployKernelOnNode(env, node);
      load = nodeCommands.kexecLoad(k.kernel, k.initrd, env.cluster(node).deployEnv.params);
    } else {
      const f = deployedBootFiles(env);
      if (!f.kernel) return ko('the environment names no kernel to kexec');
      load = nodeCommands.kexecLoad(f.kernel, f.initrd, deployedAppend(env, node));
    }
    const l = await runOnNode(env, ctx, node, load, { label: 'kexec' });
    if (!l.ok) return l;
    return kexecExec(env, ctx, node);
  });
}
