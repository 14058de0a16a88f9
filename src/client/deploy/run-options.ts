import type { DeployRequest } from '../../api/deploy-request.js';
import type { OperationOutcome } from '../../api/operation-status.js';
import { KaployError } from '../../common/errors.js';
import { checkNodeFiles } from './node-files.js';

/** What to deploy: a name each site resolves, or a description file (or URL) read once for every site. */
export type RunEnvironment =
  | { kind: 'recorded'; name: string; user?: string; version?: number }
  | { kind: 'file'; file: string; cwd: string };

/** One kadeploy3 run, on one site or (-M) on every site serving some of the nodes. */
export interface DeployRunOptions {
  nodes: string[];
  environment: RunEnvironment;
  keys?: { file: string; text: string };
  request: Omit<DeployRequest, 'nodes' | 'environment' | 'keys'>;
  verbose: number;
  /** Appended once, over every site, as Kadeploy does. */
  outputOk?: string;
  outputKo?: string;
  /** Run once after the deployment (after every site). */
  script?: string;
  wait: boolean;
  dryRun: boolean;
  pollIntervalMs?: number;
  /** -M: one deployment per configured server serving some of the nodes. */
  multiServer?: boolean;
  /** One site only: the server of the client configuration to use (-S). */
  server?: string;
  /** One site only: resume the deployment WID stopped at its breakpoint instead of starting one. */
  resume?: string;
  /** One site only: write the workflow id to this file. */
  writeWorkflowId?: string;
  /** Warnings about the run itself (description, dropped servers); the CLI prints them. */
  warn?: (message: string) => void;
}

/** Why a whole site failed: never reached, refused before starting, or lost while deploying. */
export type SiteFailureStage = 'unreachable' | 'refused' | 'lost' | 'cancelled';

/** One site's part of the run, as a value: its nodes' outcomes, and its failure if it failed as a whole. */
export interface SiteOutcome {
  server: string;
  nodes: string[];
  wid?: string;
  /** `cause` is the error itself: a one-site run throws it, -M prints it prefixed. */
  failure?: { stage: SiteFailureStage; code: string; message: string; cause: unknown };
  outcomes: OperationOutcome[];
}

export interface RunResult {
  sites: SiteOutcome[];
  /** Every node of every site, in site order. */
  outcomes: OperationOutcome[];
  /** True when at least one site started a deployment (or checked one with --dry-run). */
  started: boolean;
  /** True when the run followed the deployments to their end (neither --no-wait nor --dry-run). */
  waited: boolean;
}

/**
 * The options check of every kadeploy3 run, one site or many: nothing is asked of any server
 * when it fails (exit 3).
 */
export function checkRunOptions(o: DeployRunOptions): void {
  if (o.multiServer) {
    const bad = [o.resume && '--resume', o.writeWorkflowId && '--write-workflow-id', o.server && '-S'].filter(
      Boolean,
    );
    if (bad.length > 0) {
      throw new KaployError(
        'KAPLOY_CONFLICTING_OPTIONS',
        `-M/--multi-server cannot be used with ${bad.join(', ')} (one deployment per site)`,
      );
    }
  }
  if (o.resume && o.dryRun)
    throw new KaployError('KAPLOY_CONFLICTING_OPTIONS', '--dry-run cannot be used with --resume');
  checkNodeFiles(o);
  if (!o.wait && (o.outputOk || o.outputKo)) {
    throw new KaployError(
      'KAPLOY_CONFLICTING_OPTIONS',
      '-o/-n cannot be used with --no-wait (the result is not known when kadeploy3 returns)',
    );
  }
  // Kadeploy 3 does not check this and runs the script as soon as the deployment is submitted,
  // although its help says "at the end of the operation": refused here instead.
  if (!o.wait && o.script) {
    throw new KaployError(
      'KAPLOY_CONFLICTING_OPTIONS',
      '-s/--script cannot be used with --no-wait (the script runs after the deployment, which kadeploy3 does not wait for)',
    );
  }
  if (o.nodes.length === 0 && !o.resume)
    throw new KaployError('KAPLOY_NODE_LIST', 'no node given: use -m NODE or -f FILE');
}
