import type { RunEnvironment } from '../deploy/run-options.js';
import { getEnvironment } from '../environments/environments.js';
import type { ApiClient } from '../http-client.js';

interface NodeRow {
  name: string;
  state: string;
  env: string;
  env_user: string;
}

/** States in which a node runs the environment recorded with it (see the engine's node states). */
const RUNNING_ENV_STATES = new Set(['deployed', 'prod_env', 'recorded_env']);

/**
 * The nodes among `nodes` that already run the environment a deployment of `env` would install:
 * the engine resolves the name (and default version and owner) as it would for the deployment, and
 * its node table says what each node runs. execo and EnOSlib probe nodes by ssh for this; the
 * engine's record is what kadeploy3 itself would change, and a node rebooted into another system
 * by kareboot3 or a failed deployment is recorded as such.
 */
export async function alreadyDeployed(
  client: ApiClient,
  env: Extract<RunEnvironment, { kind: 'recorded' }>,
  nodes: readonly string[],
  signal: AbortSignal,
): Promise<{ nodes: string[]; environment: string }> {
  const e = await getEnvironment(
    client,
    {
      name: env.name,
      ...(env.user ? { user: env.user } : {}),
      ...(env.version ? { version: env.version } : {}),
    },
    signal,
  );
  const wanted = `${e.name}:${e.version}`;
  const rows = await client.request<NodeRow[]>('GET', '/nodes', { signal });
  const running = new Set(
    rows
      .filter((r) => RUNNING_ENV_STATES.has(r.state) && r.env === wanted && r.env_user === e.user)
      .map((r) => r.name),
  );
  return { nodes: nodes.filter((n) => running.has(n)), environment: `${wanted} of ${e.user}` };
}
