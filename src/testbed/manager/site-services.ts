import type { Logger } from '../../common/logger.js';
import type { TestbedLayout } from './layout.js';
import type { TestbedState } from './testbed-state.js';

/**
 * Extension point for what runs beside the nodes once they are up. The engine (`kaploy server`)
 * does not exist yet: the lead hooks here "start the engine with DIR/site.yaml, enrol users
 * (tokens in DIR/tokens, mode 600) and add DIR/envs/*.yaml as public environments of `deploy`".
 * Until then the site offers only what the daemon serves, and this does nothing.
 */
export async function startEngineAndSeedEnvironments(
  _l: TestbedLayout,
  _s: TestbedState,
  _o: { signal?: AbortSignal; logger: Logger },
): Promise<{ engineUrl?: string }> {
  return {};
}
