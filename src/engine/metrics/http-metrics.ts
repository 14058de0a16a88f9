import type { FastifyInstance } from 'fastify';
import { Histogram, type Registry } from 'prom-client';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * HTTP request durations by listener, method, route and status. The route is fastify's route pattern
 * (`/deployment/:wid`), never the raw URL: a URL carries workflow ids and user input, a label of
 * it would make a series per request. Requests that matched no route share `route="unmatched"`.
 */
export class HttpMetrics {
  readonly #duration: Histogram<'listener' | 'method' | 'route' | 'status'>;

  constructor(registry: Registry) {
    this.#duration = new Histogram({
      name: 'kaploy_http_request_duration_seconds',
      help: 'HTTP requests to the engine, by listener (engine: its own API; kadeploy: the Kadeploy-compatible one), method, route pattern and status code.',
      labelNames: ['listener', 'method', 'route', 'status'],
      buckets: BUCKETS,
      registers: [registry],
    });
  }

  /** Times every request of `app` (hooks added before its routes apply to all of them). */
  install(app: FastifyInstance, listener: 'engine' | 'kadeploy'): void {
    app.addHook('onResponse', async (request, reply) => {
      this.#duration.observe(
        {
          listener,
          method: KNOWN_METHODS.has(request.method) ? request.method : 'other',
          route: request.routeOptions.url ?? 'unmatched',
          status: String(reply.statusCode),
        },
        reply.elapsedTime / 1000,
      );
    });
  }
}

/** A method outside these (any token is valid HTTP) would be a label value chosen by the client. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
