import { KaployError } from '../../common/errors.js';
import { macroOfImpl } from '../../formats/macro-steps.js';
import { resolvePlan } from './resolve-plan.js';
import {
  type Implementation,
  MACRO_STEPS,
  type MacroStep,
  type MicroStep,
  type WorkflowPlan,
} from './types.js';
import type { WorkflowOptions } from './workflow-options.js';

const UNTRUSTED_TAIL: readonly MicroStep[] = [
  'send_key_in_deploy_env',
  'create_partition_table',
  'format_deploy_part',
  'mount_deploy_part',
  'format_tmp_part',
  'format_swap_part',
];
// decompress_environment is never listed: kaploy always decompresses in-stream during
// send_environment (Kadeploy drops it too unless the cluster says otherwise).
const BROADCAST: readonly MicroStep[] = [
  'send_environment',
  'mount_deploy_part',
  'manage_admin_post_install',
  'manage_user_post_install',
  'check_kernel_files',
  'send_key',
  'install_bootloader',
  'sync',
];

/** Every micro-step of each implementation before pruning (reference §3, Kadeploy's stepdeploy.rb). */
export const BASE_MICRO_STEPS: Readonly<Record<Implementation, readonly MicroStep[]>> = {
  SetDeploymentEnvUntrusted: ['switch_pxe', 'set_vlan', 'reboot', 'wait_reboot', ...UNTRUSTED_TAIL],
  SetDeploymentEnvNfsroot: ['switch_pxe', 'set_vlan', 'reboot', 'wait_reboot', ...UNTRUSTED_TAIL],
  SetDeploymentEnvKexec: [
    'set_vlan',
    'send_deployment_kernel',
    'sync',
    'kexec',
    'wait_reboot',
    ...UNTRUSTED_TAIL,
  ],
  SetDeploymentEnvProd: ['check_nodes', 'format_deploy_part', 'mount_deploy_part', 'format_tmp_part'],
  // The preinstall replaces partitioning and formatting; the deploy partition is mounted after it
  // because the broadcast of a tar image writes into the mounted partition.
  SetDeploymentEnvUntrustedCustomPreInstall: [
    'switch_pxe',
    'set_vlan',
    'reboot',
    'wait_reboot',
    'send_key_in_deploy_env',
    'manage_preinstall',
    'mount_deploy_part',
  ],
  SetDeploymentEnvDummy: ['dummy'],
  BroadcastEnvChain: BROADCAST,
  BroadcastEnvKastafior: BROADCAST,
  BroadcastEnvKascade: BROADCAST,
  BroadcastEnvTree: BROADCAST,
  BroadcastEnvDummy: ['dummy'],
  BootNewEnvClassical: [
    'switch_pxe',
    'umount_deploy_part',
    'reboot_from_deploy_env',
    'set_vlan',
    'wait_reboot',
  ],
  BootNewEnvKexec: [
    'switch_pxe',
    'umount_deploy_part',
    'mount_deploy_part',
    'kexec',
    'set_vlan',
    'wait_reboot',
  ],
  BootNewEnvHardReboot: ['switch_pxe', 'reboot', 'set_vlan', 'wait_reboot'],
  BootNewEnvDummy: ['dummy'],
};

export interface PrunedSteps {
  steps: MicroStep[];
  /** Dropped micro-steps with the rule that dropped them (shown at verbosity 5). */
  bypassed: { micro: MicroStep; why: string }[];
}

/** Why a micro-step is dropped for these options, or undefined when it runs. */
function dropReason(micro: MicroStep, macro: MacroStep, o: WorkflowOptions): string | undefined {
  const imageLike = o.imageKind === 'dd' || o.imageKind === 'fsa';
  const part = o.partitions;
  switch (micro) {
    case 'set_vlan':
      return o.vlan === undefined ? 'no --vlan' : undefined;
    // Kadeploy drops both key steps without -k: the engine reaches the deployment environment
    // with the site's engine key, which the deployment environment already trusts.
    case 'send_key_in_deploy_env':
    case 'send_key':
      if (!o.key) return 'no -k';
      return micro === 'send_key' && o.unmountable ? 'deploy partition not mountable' : undefined;
    case 'create_partition_table':
      if (o.wholeBlockDevice) return 'deploying on a whole block device';
      return o.disableDiskPartitioning ? '--disable-disk-partitioning' : undefined;
    case 'format_deploy_part':
      if (o.wholeBlockDevice) return 'deploying on a whole block device';
      return imageLike ? `${o.imageKind} image written raw` : undefined;
    case 'mount_deploy_part':
      if (o.unmountable) return 'deploy partition not mountable';
      // tar: mounted right after formatting (SetDeploymentEnv); dd: only once written (BroadcastEnv).
      if (imageLike && macro === 'SetDeploymentEnv')
        return `${o.imageKind} image: mounted after the broadcast`;
      if (!imageLike && macro === 'BroadcastEnv') return 'already mounted in SetDeploymentEnv';
      return undefined;
    case 'umount_deploy_part':
      return o.unmountable ? 'deploy partition not mountable' : undefined;
    case 'format_tmp_part':
      if (o.wholeBlockDevice) return 'deploying on a whole block device';
      if (o.multipart) return 'multi-partitioned environment';
      if (o.reformatTmp === undefined) return 'no -r';
      if (part?.tmp !== undefined && part.deploy === part.tmp) return 'deploying on the tmp partition';
      return undefined;
    case 'format_swap_part':
      if (o.wholeBlockDevice) return 'deploying on a whole block device';
      if (o.multipart) return 'multi-partitioned environment';
      if (o.os !== 'linux') return 'not a linux environment';
      if (part !== undefined && part.swap === undefined) return 'the cluster has no swap partition';
      if (part?.swap !== undefined && part.deploy === part.swap) return 'deploying on the swap partition';
      return undefined;
    case 'manage_admin_post_install':
      if (o.unmountable) return 'deploy partition not mountable';
      return o.adminPostinstall ? undefined : 'no admin postinstall';
    case 'manage_user_post_install':
      if (o.unmountable) return 'deploy partition not mountable';
      return o.userPostinstall ? undefined : 'no postinstall in the environment';
    case 'check_kernel_files':
      if (o.unmountable) return 'deploy partition not mountable';
      return imageLike ? `${o.imageKind} image boots its own way` : undefined;
    case 'install_bootloader':
      if (o.unmountable) return 'deploy partition not mountable';
      return o.disableBootloaderInstall ? '--disable-bootloader-install' : undefined;
    case 'manage_preinstall':
      return o.preinstall ? undefined : 'no preinstall';
    case 'decompress_environment':
      return 'decompressed in-stream';
    default:
      return undefined;
  }
}

/** The micro-steps `impl` runs for these options, with the dropped ones and why. */
export function pruneMicroSteps(impl: Implementation, opts: WorkflowOptions): PrunedSteps {
  const macro = macroOfImpl(impl);
  if (macro === undefined) throw new KaployError('KAPLOY_INTERNAL', `Unknown implementation ${impl}`);
  const out: PrunedSteps = { steps: [], bypassed: [] };
  for (const micro of BASE_MICRO_STEPS[impl]) {
    const why = dropReason(micro, macro, opts);
    if (why === undefined) out.steps.push(micro);
    else out.bypassed.push({ micro, why });
  }
  return out;
}

/** The micro-steps `impl` runs for these options, in order. */
export function microSteps(impl: Implementation, opts: WorkflowOptions): MicroStep[] {
  return pruneMicroSteps(impl, opts).steps;
}

export interface PlannedStep {
  macro: MacroStep;
  impl: Implementation;
  micro: MicroStep;
}

/**
 * Every (macro, implementation, micro-step) the plan may run, fallbacks included, in order, after
 * the Kexec/preinstall substitutions (resolvePlan is idempotent, so a resolved plan is fine too).
 */
export function plannedSteps(plan: WorkflowPlan, opts: WorkflowOptions): PlannedStep[] {
  const resolved = resolvePlan(plan, opts).plan;
  const out: PlannedStep[] = [];
  for (const macro of MACRO_STEPS) {
    const seen = new Set<Implementation>();
    for (const inst of resolved[macro]) {
      if (seen.has(inst.impl)) continue;
      seen.add(inst.impl);
      for (const micro of microSteps(inst.impl, opts)) out.push({ macro, impl: inst.impl, micro });
    }
  }
  return out;
}
