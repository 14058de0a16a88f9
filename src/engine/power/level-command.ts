import type { ClusterConfig, CommandSpec, Level } from '../../common/site-config-types.js';
import { LEVELS } from '../../common/site-config-types.js';

export type PowerAction = 'reboot' | 'power_on' | 'power_off';

const KEYS = { reboot: 'reboot', power_on: 'powerOn', power_off: 'powerOff' } as const;

/** The cluster's command for an action at a level, or Kadeploy's message when it is not configured. */
export function levelCommand(
  cluster: ClusterConfig,
  action: PowerAction,
  level: Level,
): { ok: true; spec: CommandSpec } | { ok: false; reason: string } {
  const spec = cluster.commands[KEYS[action]][level];
  if (spec) return { ok: true, spec };
  return { ok: false, reason: `${level}_${action} command is not provided` };
}

/** The level after `level` (soft -> hard -> very_hard), or undefined past very_hard. */
export function nextLevel(level: Level): Level | undefined {
  return LEVELS[LEVELS.indexOf(level) + 1];
}
