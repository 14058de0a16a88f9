import http from 'node:http';
import https from 'node:https';
import { APP_CODES, KaployError, type KaployErrorCode } from '../common/errors.js';

/**
 * A minimal JSON client for the hooks, on node:http: loading undici would delay every job's start
 * (see docs/decisions/0002-hook-http-client-on-node-http.md). Same contract as ApiClient.request:
 * engine errors come back as KaployError with the engine's code; an unreachable engine is
 * KAPLOY_CLIENT.
 */
export interface EngineRequester {
  request<T>(
    method: string,
    p: string,
    o?: {
      query?: Record<string, string | number | undefined>;
      body?: unknown;
      signal?: AbortSignal;
      timeoutMs?: number;
    },
  ): Promise<T>;
  close(): Promise<void>;
}

export class EngineHttp implements EngineRequester {
  readonly #url: URL;
  readonly #token: string;
  readonly #agent: http.Agent;

  constructor(opts: { url: string; token: string; ca?: Buffer }) {
    this.#url = new URL(opts.url.replace(/\/+$/, ''));
    this.#token = opts.token;
    this.#agent =
      this.#url.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, maxSockets: 4, ...(opts.ca ? { ca: opts.ca } : {}) })
        : new http.Agent({ keepAlive: true, maxSockets: 4 });
  }

  request<T>(
    method: string,
    p: string,
    o: {
      query?: Record<string, string | number | undefined>;
      body?: unknown;
      signal?: AbortSignal;
      timeoutMs?: number;
    } = {},
  ): Promise<T> {
    const target = new URL(this.#url.pathname.replace(/\/$/, '') + p, this.#url);
    for (const [k, v] of Object.entries(o.query ?? {}))
      if (v !== undefined) target.searchParams.set(k, String(v));
    const body = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
    const signal = o.timeoutMs
      ? o.signal
        ? AbortSignal.any([o.signal, AbortSignal.timeout(o.timeoutMs)])
        : AbortSignal.timeout(o.timeoutMs)
      : o.signal;
    const mod = target.protocol === 'https:' ? https : http;
    const where = this.#url.origin + this.#url.pathname.replace(/\/$/, '');
    return new Promise<T>((resolve, reject) => {
      const req = mod.request(
        target,
        {
          method,
          agent: this.#agent,
          headers: {
            authorization: `Bearer ${this.#token}`,
            ...(body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}),
          },
          ...(signal ? { signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => reject(unreachable(where, e)));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = text === '' ? undefined : JSON.parse(text);
            } catch {
              return reject(
                new KaployError(
                  'KAPLOY_CLIENT',
                  `server ${where} answered ${res.statusCode} with a non-JSON body`,
                ),
              );
            }
            const status = res.statusCode ?? 0;
            if (status >= 400) return reject(errorFromBody(status, json, where));
            resolve(json as T);
          });
        },
      );
      req.on('error', (e) => reject(o.signal?.aborted ? o.signal.reason : unreachable(where, e)));
      req.end(body);
    });
  }

  async close(): Promise<void> {
    this.#agent.destroy();
  }
}

function unreachable(where: string, e: Error): KaployError {
  const why = e.name === 'AbortError' ? 'no answer in time' : e.message;
  return new KaployError('KAPLOY_CLIENT', `cannot reach the kaploy server ${where}: ${why}`, { cause: e });
}

function errorFromBody(status: number, json: unknown, where: string): KaployError {
  const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
  const code = (
    err?.code && err.code in APP_CODES ? err.code : status === 401 ? 'KAPLOY_AUTH' : 'KAPLOY_INTERNAL'
  ) as KaployErrorCode;
  return new KaployError(code, err?.message ?? `server ${where} answered HTTP ${status}`);
}
