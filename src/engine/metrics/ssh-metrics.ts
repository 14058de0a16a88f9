import { Counter, Gauge, type Registry } from 'prom-client';

/** The engine's SSH connections to nodes: open now, and the connects that failed by kind. */
export class SshMetrics {
  readonly #open: Gauge;
  readonly #failed: Counter<'kind'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#open = new Gauge({
      name: 'kaploy_ssh_connections_open',
      help: 'SSH connections from the engine to nodes open now.',
      registers,
    });
    this.#failed = new Counter({
      name: 'kaploy_ssh_connections_failed_total',
      help: 'SSH connects that failed, by kind (connect_refused, connect_timeout, auth_failed, host_key_mismatch, connection_lost, ...); a connect given up on cancel is not counted.',
      labelNames: ['kind'],
      registers,
    });
  }

  opened(): void {
    this.#open.inc();
  }

  closed(): void {
    this.#open.dec();
  }

  failed(kind: string): void {
    this.#failed.inc({ kind });
  }
}
