import { setMaxListeners } from 'node:events';
import { evalTimeout } from '../workflow/timeout-expr.js';
import type { MicroStep, MicroStepContext, MicroStepExecutor, NodeResult } from '../workflow/types.js';
import { createWindow } from '../workflow/window.js';
import { installBootloader } from './bootloader.js';
import { checkKernelFiles } from './check-kernel-files.js';
import { checkNodes } from './check-nodes.js';
import type { DeploymentSpec, StepDeps } from './deployment-spec.js';
import { formatDeployPart, formatSwapPart, formatTmpPart } from './format.js';
import { kexec, sendDeploymentKernel } from './kexec.js';
import { mountDeployPart, syncNodes, umountDeployPart } from './mount.js';
import { createPartitionTable } from './partition.js';
import { manageAdminPostInstall, managePreinstall, manageUserPostInstall } from './postinstall.js';
import { type RebootDeps, reboot, rebootFromDeployEnv } from './reboot.js';
import { RebootState } from './reboot-state.js';
import { decompressEnvironment, sendEnvironment } from './send-environment.js';
import { sendKey, sendKeyInDeployEnv } from './send-key.js';
import { dummy, setVlan } from './simple-steps.js';
import { StepEnv } from './step-env.js';
import { switchPxe } from './switch-pxe.js';
import { waitReboot } from './wait-reboot.js';

type StepFn = (
  env: StepEnv,
  nodes: readonly string[],
  ctx: MicroStepContext,
) => Promise<Map<string, NodeResult>>;

/**
 * The real micro-steps for one deployment: the workflow runner calls `run(micro, nodes, ctx)` and
 * gets a result for every node. Reboot levels reached and the reboot window live here, shared by
 * the reboot and wait_reboot steps of the whole deployment.
 */
export function createStepExecutor(spec: DeploymentSpec, deps: StepDeps): MicroStepExecutor {
  const env = new StepEnv(spec, deps);
  const rd: RebootDeps = {
    state: new RebootState(),
    window: createWindow(spec.site.windows.reboot, deps.onRebootQueue),
  };
  const evaluate = deps.evalTimeout ?? evalTimeout;
  const steps: Record<MicroStep, StepFn> = {
    switch_pxe: switchPxe,
    set_vlan: setVlan,
    reboot: (e, n, c) => reboot(e, n, c, rd),
    reboot_from_deploy_env: (e, n, c) => rebootFromDeployEnv(e, n, c, rd),
    wait_reboot: (e, n, c) => waitReboot(e, n, c, rd, evaluate),
    send_deployment_kernel: sendDeploymentKernel,
    kexec,
    check_nodes: checkNodes,
    send_key_in_deploy_env: sendKeyInDeployEnv,
    create_partition_table: createPartitionTable,
    format_deploy_part: formatDeployPart,
    mount_deploy_part: mountDeployPart,
    format_tmp_part: formatTmpPart,
    format_swap_part: formatSwapPart,
    manage_preinstall: managePreinstall,
    send_environment: (e, n, c) => sendEnvironment(e, n, c, deps.broadcast),
    decompress_environment: decompressEnvironment,
    manage_admin_post_install: manageAdminPostInstall,
    manage_user_post_install: manageUserPostInstall,
    check_kernel_files: checkKernelFiles,
    send_key: sendKey,
    install_bootloader: installBootloader,
    sync: syncNodes,
    umount_deploy_part: umountDeployPart,
    dummy,
  };
  return {
    async run(micro, nodes, ctx) {
      const fn = steps[micro];
      // Every node's command, probe and relay listens on the one step signal: dozens are expected.
      setMaxListeners(Math.max(10, nodes.length * 8), ctx.signal);
      const logger = ctx.logger.child({ micro });
      const started = Date.now();
      const res = await fn(env, nodes, { ...ctx, logger });
      for (const n of nodes) if (!res.has(n)) res.set(n, { ok: false, reason: 'no result' });
      logger.debug(
        {
          nodes: nodes.length,
          ko: [...res.values()].filter((r) => !r.ok).length,
          durationMs: Date.now() - started,
        },
        'micro-step done',
      );
      return res;
    },
  };
}
