import type { Logger } from '../../common/logger.js';
import type { Implementation, MacroStep } from '../../formats/macro-steps.js';

/**
 * The contract between the workflow runner (macro-steps, retries, timeouts, fallbacks, splits,
 * breakpoints: src/engine/workflow) and the micro-step implementations that act on nodes
 * (src/engine/steps). Per-node outcomes are values. The macro-step and implementation names are
 * the --force-steps wire format's (src/formats/macro-steps.ts).
 */
export {
  type Implementation,
  type ImplInstance,
  MACRO_STEPS,
  type MacroStep,
  type WorkflowPlan,
} from '../../formats/macro-steps.js';
export type MicroStep =
  | 'switch_pxe'
  | 'set_vlan'
  | 'reboot'
  | 'wait_reboot'
  | 'send_deployment_kernel'
  | 'kexec'
  | 'check_nodes'
  | 'send_key_in_deploy_env'
  | 'create_partition_table'
  | 'format_deploy_part'
  | 'mount_deploy_part'
  | 'format_tmp_part'
  | 'format_swap_part'
  | 'manage_preinstall'
  | 'send_environment'
  | 'decompress_environment'
  | 'manage_admin_post_install'
  | 'manage_user_post_install'
  | 'check_kernel_files'
  | 'send_key'
  | 'install_bootloader'
  | 'sync'
  | 'umount_deploy_part'
  | 'reboot_from_deploy_env'
  | 'dummy';

/** What one node got from one micro-step. */
export type NodeResult = { ok: true } | { ok: false; reason: string };

/** Everything a micro-step needs; built by the deployment service (src/engine/steps). */
export interface MicroStepContext {
  wid: string;
  macro: MacroStep;
  impl: Implementation;
  micro: MicroStep;
  /** Aborted on cancel, and when the macro-step instance times out. */
  signal: AbortSignal;
  logger: Logger;
  /** Attempt number of this macro-step instance for these nodes (0 first). */
  attempt: number;
  /** Debug output per node (kadeploy3 -d). */
  debug(node: string, text: string): void;
  /**
   * Optional (set by the runner): report a node's result as soon as it is known. Reported nodes
   * move on together without waiting for the rest of the group (a hung node then holds only itself
   * until the instance timeout). Nodes never reported wait for the returned map, i.e. for the whole
   * call: a micro-step that must keep the group together (a broadcast chain) just does
   * not report early. The first result given for a node wins; the returned map must still hold
   * every node (reported ones may be repeated or left out).
   */
  report?(node: string, result: NodeResult): void;
  /**
   * Optional (set by the runner): a line for the user's log, e.g. `Performing a soft reboot on
   * node-1` (verbosity 3) or `node-1 is here after 42s` (verbosity 5). Default verbosity 3.
   */
  note?(text: string, verbosity?: number): void;
}

/**
 * Runs one micro-step on a group of nodes and returns a result for every node given.
 * A node missing from the returned map is KO. Must honour ctx.signal.
 */
export type MicroStepFn = (
  nodes: readonly string[],
  ctx: MicroStepContext,
) => Promise<Map<string, NodeResult>>;

/**
 * Every micro-step's function, as the runner looks it up (`steps[micro]`): built per deployment by
 * src/engine/steps (createStepTable), scripted in the runner's tests.
 */
export type MicroStepTable = Readonly<Record<MicroStep, MicroStepFn>>;

export type NodeFinalStatus = 'ok' | 'ko' | 'breakpoint' | 'cancelled';

export interface MacroRecord {
  impl: Implementation;
  retries: number; // retries used
  timeoutSec: number;
  durationMs: number;
}

/** Final per-node outcome (also the source of the statistics row). */
export interface NodeOutcome {
  node: string;
  status: NodeFinalStatus;
  /** Where it failed / stopped (for KO, breakpoint, cancelled). */
  macro?: MacroStep;
  impl?: Implementation;
  micro?: MicroStep;
  reason?: string;
  /** A stable code for why it ended so, when one applies (KAPLOY_PREEMPTED). */
  code?: string;
  attempts: number;
  durationMs: number;
  steps: Partial<Record<MacroStep, MacroRecord>>;
}
