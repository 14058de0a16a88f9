import { Counter, Gauge, type Registry } from 'prom-client';
import { reasonClass } from './reason-class.js';

/** What an operation ended as, from its nodes' outcomes (a closed set: a label). */
export type OperationOutcomeLabel = 'ok' | 'partial' | 'ko' | 'cancelled' | 'failed';

/** One node's end, as the metrics see it: no node name is kept. */
export interface NodeEnd {
  status: string;
  reason?: string;
  /** The macro-step (deployments) or stage (reboot, power) it ended in; '' when none. */
  step: string;
}

/**
 * Operations started and ended by kind and outcome, per-node outcomes by cluster, step and reason
 * class, and what runs now. Labels are closed sets or the site's own names (clusters, steps):
 * never a node, user or workflow id.
 */
export class OperationMetrics {
  readonly #started: Counter<'kind'>;
  readonly #ended: Counter<'kind' | 'outcome'>;
  readonly #nodes: Counter<'kind' | 'cluster' | 'step' | 'status' | 'reason'>;
  readonly #running: Gauge<'kind' | 'phase'>;
  readonly #runningNodes: Gauge<'kind'>;
  readonly #queuedNodes: Gauge<'window'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#started = new Counter({
      name: 'kaploy_operations_started_total',
      help: 'Operations started, by kind (deploy, reboot, power, restore).',
      labelNames: ['kind'],
      registers,
    });
    this.#ended = new Counter({
      name: 'kaploy_operations_ended_total',
      help: 'Operations ended, by kind and outcome (ok: every node OK; partial; ko: no node OK; cancelled; failed: the operation itself failed).',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.#nodes = new Counter({
      name: 'kaploy_node_outcomes_total',
      help: 'Per-node outcomes, by operation kind, cluster, the step the node ended in (none when OK), status and reason class.',
      labelNames: ['kind', 'cluster', 'step', 'status', 'reason'],
      registers,
    });
    this.#running = new Gauge({
      name: 'kaploy_operations',
      help: 'Operations now in the engine, by kind and phase (preparing: checks and image downloads before any node is touched; queued: checks passed, waiting for admission control, no node touched; running).',
      labelNames: ['kind', 'phase'],
      registers,
    });
    this.#runningNodes = new Gauge({
      name: 'kaploy_operation_nodes_running',
      help: 'Nodes of running operations whose outcome is not known yet, by kind.',
      labelNames: ['kind'],
      registers,
    });
    this.#queuedNodes = new Gauge({
      name: 'kaploy_nodes_queued',
      help: 'Nodes waiting for a slot (window reboot: at most windows.reboot nodes of one operation rebooted or powered at once; window admission: nodes of operations queued by admission control).',
      labelNames: ['window'],
      registers,
    });
  }

  /** `delta` nodes joined (+) or left (-) the queue of a window (`reboot`: windows.reboot). */
  queued(window: string, delta: number): void {
    this.#queuedNodes.inc({ window }, delta);
  }

  /** Counts an operation in its preparing phase until the returned function is called. */
  preparing(kind: string): () => void {
    this.#running.inc({ kind, phase: 'preparing' });
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#running.dec({ kind, phase: 'preparing' });
    };
  }

  /**
   * Counts an operation queued by admission control (phase `queued`) and its nodes (window
   * `admission`) until the returned function is called.
   */
  admissionQueued(kind: string, nodes: number): () => void {
    this.#running.inc({ kind, phase: 'queued' });
    this.#queuedNodes.inc({ window: 'admission' }, nodes);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#running.dec({ kind, phase: 'queued' });
      this.#queuedNodes.dec({ window: 'admission' }, nodes);
    };
  }

  started(kind: string, nodes: number): void {
    this.#started.inc({ kind });
    this.#running.inc({ kind, phase: 'running' });
    this.#runningNodes.inc({ kind }, nodes);
  }

  /** Called once per node as soon as its outcome is known, or all at once at the end. */
  nodeEnded(kind: string, cluster: string, end: NodeEnd): void {
    this.#nodes.inc({
      kind,
      cluster,
      step: end.step || 'none',
      status: end.status,
      reason: reasonClass(end.status, end.reason),
    });
  }

  ended(kind: string, nodes: number, outcome: OperationOutcomeLabel): void {
    this.#ended.inc({ kind, outcome });
    this.#running.dec({ kind, phase: 'running' });
    this.#runningNodes.dec({ kind }, nodes);
  }

  /** A restore group is an operation of kind `restore` that runs deploy/reboot operations inside. */
  restoreStarted(): void {
    this.#started.inc({ kind: 'restore' });
  }

  restoreEnded(outcome: OperationOutcomeLabel): void {
    this.#ended.inc({ kind: 'restore', outcome });
  }
}

/** The outcome label of an operation from its nodes' statuses. */
export function operationOutcome(
  statuses: readonly string[],
  failed: boolean,
  cancelled: boolean,
): OperationOutcomeLabel {
  if (failed) return 'failed';
  const ok = statuses.filter((s) => s === 'ok' || s === 'breakpoint').length;
  if (cancelled && ok < statuses.length) return 'cancelled';
  if (ok === statuses.length) return 'ok';
  return ok === 0 ? 'ko' : 'partial';
}
