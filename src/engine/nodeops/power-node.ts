import type { ClusterConfig, Level, NodeConfig } from '../../common/site-config-types.js';
import { type HardwareOutcome, runHardwareCommand } from '../power/hardware-command.js';
import { levelCommand, nextLevel } from '../power/level-command.js';
import { nodeVars } from '../power/placeholders.js';

export type PowerNodeOutcome =
  | { ok: true; level: Level; output: string }
  | { ok: false; reason: string; level?: Level };

/**
 * Powers one node on or off with the cluster's commands from `start`, escalating to the next level
 * when a command fails (as reboots do); a level with no command ends it with Kadeploy's message
 * (`hard_power_off command is not provided`).
 */
export async function powerNode(
  site: string,
  cluster: ClusterConfig,
  node: NodeConfig,
  action: 'power_on' | 'power_off',
  start: Level,
  o: { timeoutMs: number; signal: AbortSignal; onAttempt?: (level: Level, r: HardwareOutcome) => void },
): Promise<PowerNodeOutcome> {
  let level: Level | undefined = start;
  let last = '';
  while (level) {
    const cmd = levelCommand(cluster, action, level);
    if (!cmd.ok) return { ok: false, reason: last ? `${last}; ${cmd.reason}` : cmd.reason, level };
    const r = await runHardwareCommand(cmd.spec, nodeVars(site, node), o);
    o.onAttempt?.(level, r);
    if (r.ok) return { ok: true, level, output: r.output };
    if (o.signal.aborted) return { ok: false, reason: 'aborted', level };
    last = `${level}_${action} failed: ${r.reason}`;
    level = nextLevel(level);
  }
  return { ok: false, reason: last, level: 'very_hard' };
}

/** The cluster's power status command (no levels): its first output line, e.g. `on`. */
export async function powerStatus(
  site: string,
  cluster: ClusterConfig,
  node: NodeConfig,
  o: { timeoutMs: number; signal: AbortSignal },
): Promise<{ ok: true; output: string } | { ok: false; reason: string }> {
  const spec = cluster.commands.powerStatus;
  if (!spec) return { ok: false, reason: 'power_status command is not provided' };
  const r = await runHardwareCommand(spec, nodeVars(site, node), o);
  if (!r.ok) return r;
  return { ok: true, output: (r.output.trim().split('\n')[0] ?? '').trim().slice(0, 200) };
}
