import { collectDefaultMetrics, Registry } from 'prom-client';
import { HttpMetrics } from './http-metrics.js';
import { ImageMetrics } from './image-metrics.js';
import { OperationMetrics } from './operation-metrics.js';
import { SshMetrics } from './ssh-metrics.js';
import { StepMetrics } from './step-metrics.js';

/**
 * One engine's metrics, in a registry of its own (not prom-client's global one): two engines in
 * one process (tests, the benches) keep separate counts. The families are fed by the engine's
 * parts where things happen (operation service, workflow events, image cache, broadcasts, SSH
 * pool, HTTP hook); the store's gauges (nodes by state, OAR restores) are read at scrape time.
 */
export class EngineMetrics {
  readonly registry = new Registry();
  readonly operations = new OperationMetrics(this.registry);
  readonly steps = new StepMetrics(this.registry);
  readonly images = new ImageMetrics(this.registry);
  readonly ssh = new SshMetrics(this.registry);
  readonly http = new HttpMetrics(this.registry);

  constructor() {
    // The engine process itself: CPU, resident memory, event loop lag, heap (process_*, nodejs_*).
    collectDefaultMetrics({ register: this.registry });
  }

  #rendering: Promise<string> | undefined;

  /**
   * The scrape: Prometheus text format 0.0.4. Scrapes that arrive while one is being rendered get
   * that one's text: a burst of scrapers (or one misconfigured at a tiny interval) costs one
   * rendering at a time, whatever their number.
   */
  text(): Promise<string> {
    this.#rendering ??= this.registry.metrics().finally(() => {
      this.#rendering = undefined;
    });
    return this.#rendering;
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
