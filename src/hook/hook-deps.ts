import { errorMessage } from '../common/errors.js';
import {
  HOOKS_DEFAULTS,
  type HooksConfig,
  loadHooksConfig,
  RESTORE_DEFAULTS,
} from '../common/hooks-config.js';
import type { Deadline } from './deadline.js';
import { HookEngine } from './hook-engine.js';
import type { HookLog } from './hook-log.js';

/** What a hook run works with. `engine` is absent when the configuration or the token is unusable. */
export interface HookDeps {
  config: HooksConfig;
  engine: HookEngine | undefined;
  log: HookLog;
  deadline: Deadline;
  now: () => number;
}

/**
 * Without a usable configuration the epilogue must still take the nodes out of service and spool
 * the restore request (delivered once an admin fixes the file), so it falls back to the Debian
 * paths and the default spool directory.
 */
function fallbackHooksConfig(file: string): HooksConfig {
  return {
    file,
    engineUrl: '',
    adminTokenFile: '',
    ...HOOKS_DEFAULTS,
    partitions: [...HOOKS_DEFAULTS.partitions],
    restore: RESTORE_DEFAULTS,
  };
}

/** Loads the configuration and the engine credential, logging (not throwing) what is wrong. */
export function loadHookSetup(
  file: string,
  log: HookLog,
): { config: HooksConfig; engine: HookEngine | undefined } {
  let config: HooksConfig;
  try {
    config = loadHooksConfig(file);
  } catch (e) {
    log(
      `configuration unusable, engine calls skipped, using default OAR paths and spool: ${errorMessage(e)}`,
    );
    return { config: fallbackHooksConfig(file), engine: undefined };
  }
  try {
    return { config, engine: HookEngine.fromConfig(config) };
  } catch (e) {
    log(`engine credential unusable, engine calls skipped: ${errorMessage(e)}`);
    return { config, engine: undefined };
  }
}
