import { Counter, Histogram, type Registry } from 'prom-client';
import type { WorkflowEvent } from '../workflow/events.js';

/** Seconds: from a quick micro-step on a few nodes to a broadcast of a large image. */
const MACRO_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 3600];
const MICRO_BUCKETS = [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1200];

/**
 * Macro-step and micro-step durations by cluster and implementation, from the workflow runner's
 * events: one observation per group of nodes that went through a step together (a macro-step
 * instance that ended OK, a batch of micro-step results), never one per node, so the cost of a
 * 1,000-node group is one observation. Retries and timeouts are counted per node.
 */
export class StepMetrics {
  readonly #macro: Histogram<'cluster' | 'macro' | 'impl'>;
  readonly #micro: Histogram<'cluster' | 'impl' | 'micro'>;
  readonly #retries: Counter<'cluster' | 'macro' | 'impl'>;
  readonly #timeouts: Counter<'cluster' | 'macro' | 'impl'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#macro = new Histogram({
      name: 'kaploy_macro_step_duration_seconds',
      help: 'Duration of macro-step instances that ended OK, one observation per group of nodes, by cluster, macro-step and implementation.',
      labelNames: ['cluster', 'macro', 'impl'],
      buckets: MACRO_BUCKETS,
      registers,
    });
    this.#micro = new Histogram({
      name: 'kaploy_micro_step_duration_seconds',
      help: 'Duration of micro-steps, one observation per batch of node results, by cluster, implementation and micro-step.',
      labelNames: ['cluster', 'impl', 'micro'],
      buckets: MICRO_BUCKETS,
      registers,
    });
    this.#retries = new Counter({
      name: 'kaploy_macro_step_retries_total',
      help: 'Nodes a macro-step implementation was retried on, by cluster, macro-step and implementation.',
      labelNames: ['cluster', 'macro', 'impl'],
      registers,
    });
    this.#timeouts = new Counter({
      name: 'kaploy_macro_step_timeouts_total',
      help: 'Nodes a macro-step instance timed out on, by cluster, macro-step and implementation.',
      labelNames: ['cluster', 'macro', 'impl'],
      registers,
    });
  }

  /**
   * A micro-step of a reboot or a power operation (src/engine/nodeops: no workflow runner), once
   * per cluster among the nodes that went through it together.
   */
  nodeOpMicro(cluster: string, impl: string, micro: string, seconds: number): void {
    this.#micro.observe({ cluster, impl, micro }, seconds);
  }

  /** A reboot's or a power operation's step (`macro`: Reboot, Power) that ended OK on `cluster`'s nodes. */
  nodeOpMacro(cluster: string, macro: string, impl: string, seconds: number): void {
    this.#macro.observe({ cluster, macro, impl }, seconds);
  }

  /** Records one event of a workflow running on `cluster`'s nodes. */
  event(cluster: string, ev: WorkflowEvent): void {
    switch (ev.kind) {
      case 'macro_end':
        this.#macro.observe({ cluster, macro: ev.macro, impl: ev.impl }, ev.durationMs / 1000);
        break;
      case 'micro_end':
        this.#micro.observe({ cluster, impl: ev.impl, micro: ev.micro }, ev.durationMs / 1000);
        break;
      case 'retry':
        this.#retries.inc({ cluster, macro: ev.macro, impl: ev.impl }, ev.nodes.length);
        break;
      case 'timeout':
        this.#timeouts.inc({ cluster, macro: ev.macro, impl: ev.impl }, ev.nodes.length);
        break;
      default:
        break;
    }
  }
}
