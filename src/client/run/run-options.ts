import { KaployError } from '../../common/errors.js';
import type { DeployRunOptions } from '../deploy/run-options.js';
import { checkCommand } from './experiment.js';

/** Most deployments `kaploy run` makes of a node: execo's deploy() defaults to 3 tries. */
export const MAX_RETRIES = 10;

/** `kaploy run`: deploy, retry the KO nodes, check there are enough, then run the experiment. */
export interface KaployRunOptions {
  /** The deployment, as kadeploy3 would make it (one site). */
  deploy: Omit<DeployRunOptions, 'wait' | 'dryRun' | 'outputOk' | 'outputKo' | 'script' | 'multiServer'>;
  /** Deployments after the first, each of the nodes still KO. */
  retries: number;
  /** Fewer deployed nodes than this (or than ratio x asked) and the command does not run. */
  minNodes?: number;
  minRatio?: number;
  /** Nodes that the engine says already run the environment (same name, version, owner) are not deployed. */
  skipDeployed: boolean;
  /** The experiment: a program and its arguments, run without a shell. */
  command: string[];
  /** Where the deployed nodes are written, one per line; also $KAPLOY_NODES_FILE for the command. */
  nodesFile: string;
}

/** Checks what can be checked before any server is asked (exit 3 when it fails). */
export function checkKaployRunOptions(o: KaployRunOptions): void {
  const bad = (m: string): never => {
    throw new KaployError('KAPLOY_OPTION', m);
  };
  if (o.command.length === 0 || o.command[0] === '')
    bad('no command given: kaploy run -e ENV [options] -- COMMAND [ARGS...]');
  if (!Number.isInteger(o.retries) || o.retries < 0 || o.retries > MAX_RETRIES)
    bad(`--retries must be an integer from 0 to ${MAX_RETRIES}`);
  if (o.minNodes !== undefined && o.minRatio !== undefined)
    throw new KaployError('KAPLOY_CONFLICTING_OPTIONS', 'give --min-nodes or --min-ratio, not both');
  if (o.minNodes !== undefined && o.minNodes > o.deploy.nodes.length)
    bad(`--min-nodes ${o.minNodes} is more than the ${o.deploy.nodes.length} node(s) given`);
  if (o.skipDeployed && o.deploy.environment.kind === 'file')
    throw new KaployError(
      'KAPLOY_CONFLICTING_OPTIONS',
      'an anonymous environment (-a) is never "already deployed": add --no-skip-deployed',
    );
  if (o.deploy.resume) bad('--resume is not a kaploy run option (use kadeploy3 --resume)');
  checkCommand(o.command[0] as string);
}

/** The fewest deployed nodes the run accepts: --min-nodes, ceil(--min-ratio x nodes), or every node. */
export function requiredNodes(o: Pick<KaployRunOptions, 'minNodes' | 'minRatio'>, asked: number): number {
  if (o.minNodes !== undefined) return o.minNodes;
  if (o.minRatio !== undefined) return Math.ceil(o.minRatio * asked - 1e-9);
  return asked;
}
