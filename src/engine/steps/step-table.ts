import { evalTimeout } from '../workflow/timeout-expr.js';
import type { MicroStepTable } from '../workflow/types.js';
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

/**
 * The real micro-steps for one deployment, as a record the workflow runner looks the micro-step up
 * in and calls (`steps[micro](nodes, ctx)`): a lookup, not a hop. Each entry is the step's function
 * bound to this deployment's StepEnv; reboot levels reached and the reboot window live here,
 * shared by the reboot and wait_reboot steps of the whole deployment.
 */
export function createStepTable(spec: DeploymentSpec, deps: StepDeps): MicroStepTable {
  const env = new StepEnv(spec, deps);
  const rd: RebootDeps = {
    state: new RebootState(),
    window: createWindow(spec.site.windows.reboot, deps.onRebootQueue),
  };
  const evaluate = deps.evalTimeout ?? evalTimeout;
  return {
    switch_pxe: (n, c) => switchPxe(env, n, c),
    set_vlan: (n, c) => setVlan(env, n, c),
    reboot: (n, c) => reboot(env, n, c, rd),
    reboot_from_deploy_env: (n, c) => rebootFromDeployEnv(env, n, c, rd),
    wait_reboot: (n, c) => waitReboot(env, n, c, rd, evaluate),
    send_deployment_kernel: (n, c) => sendDeploymentKernel(env, n, c),
    kexec: (n, c) => kexec(env, n, c),
    check_nodes: (n, c) => checkNodes(env, n, c),
    send_key_in_deploy_env: (n, c) => sendKeyInDeployEnv(env, n, c),
    create_partition_table: (n, c) => createPartitionTable(env, n, c),
    format_deploy_part: (n, c) => formatDeployPart(env, n, c),
    mount_deploy_part: (n, c) => mountDeployPart(env, n, c),
    format_tmp_part: (n, c) => formatTmpPart(env, n, c),
    format_swap_part: (n, c) => formatSwapPart(env, n, c),
    manage_preinstall: (n, c) => managePreinstall(env, n, c),
    send_environment: (n, c) => sendEnvironment(env, n, c, deps.broadcast),
    decompress_environment: (n, c) => decompressEnvironment(env, n, c),
    manage_admin_post_install: (n, c) => manageAdminPostInstall(env, n, c),
    manage_user_post_install: (n, c) => manageUserPostInstall(env, n, c),
    check_kernel_files: (n, c) => checkKernelFiles(env, n, c),
    send_key: (n, c) => sendKey(env, n, c),
    install_bootloader: (n, c) => installBootloader(env, n, c),
    sync: (n, c) => syncNodes(env, n, c),
    umount_deploy_part: (n, c) => umountDeployPart(env, n, c),
    dummy: (n, c) => dummy(env, n, c),
  };
}
