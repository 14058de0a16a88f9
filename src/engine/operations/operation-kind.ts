import type { NodeStateView, OperationOutcome, OperationStatus } from '../../api/operation-status.js';
import type { Logger } from '../../common/logger.js';
import type { StatsRow } from '../../stats/schema.js';
import type { NodeUpdate } from '../store/nodes-repo.js';
import type { OperationLog } from './operation-log.js';

/** The kinds of operations with per-node outcomes: deployments (D-), reboots (R-), power (P-). */
type PlanKindName = OperationStatus['kind'];

/** What every per-node outcome has, whatever the kind. Outcomes are values, never exceptions. */
export interface BaseOutcome {
  node: string;
  status: OperationOutcome['status'];
  reason?: string;
}

/** What the statistics rows of one operation share. */
interface StatsMeta {
  wid: string;
  user: string;
  startMs: number;
  /** `name:version`, or '' when no environment is involved (or known: after a crash). */
  env: string;
  anonymous: boolean;
  md5: string;
}

/** How the service ends a node the work returned no outcome for. */
interface UnfinishedNode {
  status: 'ko' | 'cancelled';
  reason: string;
  durationMs: number;
}

/**
 * What is the same for every operation of one kind: its ids and words, and how its outcomes are
 * shown, counted and made up for nodes left without one (a failure, a crash). Methods, not
 * function properties, so a kind of a narrower outcome is a kind of BaseOutcome.
 */
export interface PlanKind<O extends BaseOutcome> {
  name: PlanKindName;
  /** Workflow id prefix, Kadeploy's: D, R, P. */
  prefix: 'D' | 'R' | 'P';
  /** Log lines: `<title> #<wid> started`. */
  title: string;
  /** Error messages: `no <noun> <wid>`, `the engine stopped during the <noun>`. */
  noun: string;
  /** The log line on busy nodes: `... are already involved in <busyWith>, let's discard them`. */
  busyWith: string;
  /** The state of a node whose operation an engine crash interrupted. */
  failedState: string;
  /** Whether GET /<kind> lists finished operations still held (deployments) or only running ones. */
  listsFinished: boolean;
  /** The outcome of a node left without one; `request` is the operation's stored request. */
  unfinished(node: string, u: UnfinishedNode, request: unknown): O;
  /** The node's line in the status, once its outcome is known. */
  view(o: O): NodeStateView;
  toApi(o: O): OperationOutcome;
  statsRows(outcomes: readonly O[], meta: StatsMeta): StatsRow[];
}

/** What the per-node work of one operation gets. */
export interface OperationRun {
  wid: string;
  log: OperationLog;
  signal: AbortSignal;
  logger: Logger;
}

/**
 * One operation, once its request was checked and nothing was touched yet: what it is (its kind,
 * nodes, request) and its own work. The planners (planDeployment, planReboot, planPower) make it;
 * OperationService runs it.
 */
export interface OperationPlan<O extends BaseOutcome> {
  kind: PlanKind<O>;
  user: string;
  nodes: string[];
  /** Stored in the workflows table as the request; crash recovery reads its `nodes`. */
  request: object;
  /**
   * What the stored request leaves out (a reboot's keys and PXE profile) and a resumption after an
   * engine restart needs: kept apart (workflow_runs), dropped at the next start after its end.
   */
  extras?: object;
  /** `name:version` for the status and the statistics rows, else ''. */
  env: string;
  /** Statistics: an anonymous environment and its image's md5 (deployments). */
  anonymous?: boolean;
  md5?: string;
  /** Nodes left out because they were busy (without --force). */
  discarded: string[];
  /** Logged at verbosity 1 when it starts. */
  warnings?: string[];
  /** Logged at verbosity 3 when it starts: what its preparation did (image downloads). */
  notes?: string[];
  /** The node state while it runs (deploying, rebooting, powering); undefined leaves states alone. */
  runningState?: string;
  /** The request asked for debug lines (-d) for every reader. */
  debug: boolean;
  /** The per-node work: one outcome per node (a node left out ends as `kind.unfinished`). */
  run(r: OperationRun): Promise<O[]>;
  /** The node's row once its outcome is known (undefined: unchanged). */
  settle(o: O): NodeUpdate | undefined;
}
