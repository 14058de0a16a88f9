import type { ClusterConfig, Level, NodeConfig } from '../../common/site-config-types.js';
import { runHardwareCommand } from './hardware-command.js';
import { levelCommand, nextLevel } from './level-command.js';
import { nodeVars } from './placeholders.js';

export interface RebootAttempt {
  level: Level;
  ok: boolean;
  reason?: string;
}

export type RebootOutcome =
  | { ok: true; level: Level; attempts: RebootAttempt[] }
  | { ok: false; reason: string; attempts: RebootAttempt[] };

/**
 * Reboots one node with the cluster's commands from `start`, escalating to the next level when a
 * command fails (Kadeploy: soft -> hard -> very_hard). A level with no command ends the escalation
 * with Kadeploy's message, e.g. `very_hard_reboot command is not provided`.
 */
export async function rebootNode(
  site: string,
  cluster: ClusterConfig,
  node: NodeConfig,
  start: Level,
  o: { timeoutMs: number; signal: AbortSignal; onAttempt?: (a: RebootAttempt) => void },
): Promise<RebootOutcome> {
  const attempts: RebootAttempt[] = [];
  let level: Level | undefined = start;
  while (level) {
    const cmd = levelCommand(cluster, 'reboot', level);
    if (!cmd.ok) return { ok: false, reason: cmd.reason, attempts };
    const r = await runHardwareCommand(cmd.spec, nodeVars(site, node), o);
    const a: RebootAttempt = r.ok ? { level, ok: true } : { level, ok: false, reason: r.reason };
    attempts.push(a);
    o.onAttempt?.(a);
    if (r.ok) return { ok: true, level, attempts };
    if (o.signal.aborted) return { ok: false, reason: 'aborted', attempts };
    level = nextLevel(level);
  }
  const last = attempts[attempts.length - 1];
  return { ok: false, reason: `very_hard reboot failed: ${last?.reason ?? 'unknown'}`, attempts };
}
