import type {
  Implementation,
  MacroStep,
  MicroStep,
  MicroStepTable,
  NodeResult,
} from '../../../../src/engine/workflow/types.js';
import { stepCtx } from './site.js';

/**
 * Calls each micro-step of the table in order, as the runner would, dropping nodes that fail
 * (they stay KO with the step that failed them). Returns every node's final result.
 */
export async function runSteps(
  steps: MicroStepTable,
  nodes: string[],
  seq: [MacroStep, Implementation, MicroStep[]][],
  signal: AbortSignal,
  debugLines?: string[],
): Promise<Map<string, NodeResult & { at?: string }>> {
  const out = new Map<string, NodeResult & { at?: string }>();
  let alive = [...nodes];
  for (const [macro, impl, micros] of seq) {
    for (const micro of micros) {
      if (alive.length === 0) break;
      const r = await steps[micro](alive, stepCtx(macro, impl, micro, signal, debugLines));
      for (const n of alive) {
        const res = r.get(n) ?? { ok: false, reason: 'missing' };
        if (!res.ok) out.set(n, { ...res, at: `${impl}-${micro}` });
      }
      alive = alive.filter((n) => r.get(n)?.ok === true);
    }
  }
  for (const n of alive) out.set(n, { ok: true });
  return out;
}

export const UNTRUSTED: MicroStep[] = [
  'switch_pxe',
  'reboot',
  'wait_reboot',
  'send_key_in_deploy_env',
  'create_partition_table',
  'format_deploy_part',
  'mount_deploy_part',
  'format_swap_part',
];
export const UNTRUSTED_DD: MicroStep[] = UNTRUSTED.filter(
  (m) => m !== 'format_deploy_part' && m !== 'mount_deploy_part',
);
export const BROADCAST_TAR: MicroStep[] = [
  'send_environment',
  'manage_user_post_install',
  'check_kernel_files',
  'send_key',
  'install_bootloader',
  'sync',
];
export const BROADCAST_DD: MicroStep[] = [
  'send_environment',
  'mount_deploy_part',
  'send_key',
  'install_bootloader',
  'sync',
];
export const CLASSICAL: MicroStep[] = [
  'switch_pxe',
  'umount_deploy_part',
  'reboot_from_deploy_env',
  'wait_reboot',
];
