import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { KaployError } from '../../common/errors.js';
import type { ClusterConfig, NodeConfig } from '../../common/site-config-types.js';
import { renderArgv } from '../power/hardware-command.js';
import { nodeVars } from '../power/placeholders.js';

/**
 * Starts the cluster's console command for one node: an argument vector from the site
 * configuration with the node's placeholders filled per word, run without a shell, so a node name
 * never becomes shell syntax. (HTTP consoles are not streams a child process can relay.)
 */
export function spawnConsole(
  site: string,
  cluster: ClusterConfig,
  node: NodeConfig,
): ChildProcessWithoutNullStreams {
  const spec = cluster.commands.console;
  if (!spec) {
    throw new KaployError('KAPLOY_EXECUTE', `console command is not provided for cluster ${cluster.name}`, {
      node: node.name,
    });
  }
  if (spec.kind !== 'argv') {
    throw new KaployError(
      'KAPLOY_CONFIG',
      `the console of cluster ${cluster.name} must be an argv command (an HTTP call cannot be relayed)`,
      { node: node.name },
    );
  }
  const [file, ...args] = renderArgv(spec.argv, nodeVars(site, node));
  if (!file) throw new KaployError('KAPLOY_CONFIG', `empty console command for cluster ${cluster.name}`);
  return spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TERM: 'dumb' } });
}
