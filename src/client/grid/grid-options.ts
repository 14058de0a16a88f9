import type { DeployRequest } from '../../api/deploy-request.js';
import type { OperationOutcome } from '../../api/operation-status.js';
import type { GridDescription } from './load-description.js';

/** What to deploy on every site: a name each site resolves, or a description sent to each site. */
export type GridEnvironment =
  | { kind: 'recorded'; name: string; user?: string; version?: number }
  | { kind: 'file'; file: string; cwd: string };

/** What one site is asked to deploy: the description was read once for every site. */
export type SiteEnvironment =
  | Extract<GridEnvironment, { kind: 'recorded' }>
  | { kind: 'description'; description: GridDescription };

/** `kadeploy3 -M` as a library: the same options are sent to every site. */
export interface GridDeployOptions {
  nodes: string[];
  environment: GridEnvironment;
  keys?: { file: string; text: string };
  request: Omit<DeployRequest, 'nodes' | 'environment' | 'keys'>;
  verbose: number;
  /** Merged over every site, appended as Kadeploy does. */
  outputOk?: string;
  outputKo?: string;
  script?: string;
  wait: boolean;
  dryRun: boolean;
  pollIntervalMs?: number;
  /** Warnings about the grid itself (dropped servers); the CLI prints them. */
  warn?: (message: string) => void;
}

/** Why a whole site failed: never reached, refused before starting, or lost while deploying. */
export type SiteFailureStage = 'unreachable' | 'refused' | 'lost' | 'cancelled';

/** One site's part of the run, as a value: its nodes' outcomes, and its failure if it failed as a whole. */
export interface SiteOutcome {
  server: string;
  nodes: string[];
  wid?: string;
  failure?: { stage: SiteFailureStage; code: string; message: string };
  outcomes: OperationOutcome[];
}

export interface GridResult {
  sites: SiteOutcome[];
  /** Every node of every site, in site order. */
  outcomes: OperationOutcome[];
  /** True when at least one site started a deployment (or checked one with --dry-run). */
  started: boolean;
}
