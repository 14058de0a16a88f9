import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { APP_CODES, KaployError, type KaployErrorCode } from '../common/errors.js';
import { readToken } from '../common/token-file.js';
import { loadClientConfig, pickServer } from './client-config.js';

/**
 * HTTP client used by every command (and the grid orchestrator) to talk to an engine.
 * Errors from the engine (`{error: {code, appCode, message, fields}}`) come back as KaployError
 * with the same code; an unreachable server is KAPLOY_AUTH-free KAPLOY_CLIENT... see `unreachable`.
 */
export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined | string[]>;
  body?: unknown;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Longest silence allowed inside a streamed body (undici's default is 300 s; 0 = none, for consoles). */
  bodyTimeoutMs?: number;
}

export class ApiClient {
  readonly url: string;
  readonly serverName: string;
  readonly #token: string;
  readonly #agent: Agent;

  constructor(opts: { url: string; token: string; serverName?: string }) {
    this.url = opts.url.replace(/\/+$/, '');
    this.serverName = opts.serverName ?? this.url;
    this.#token = opts.token;
    this.#agent = new Agent({ keepAliveTimeout: 10_000, connections: 16 });
  }

  #target(p: string, query?: RequestOptions['query']): string {
    const u = new URL(this.url + p);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const x of v) u.searchParams.append(k, x);
      else u.searchParams.set(k, String(v));
    }
    return u.toString();
  }

  async #send(method: string, p: string, o: RequestOptions) {
    const signal = o.timeoutMs ? anySignal(o.signal, AbortSignal.timeout(o.timeoutMs)) : o.signal;
    try {
      return await request(this.#target(p, o.query), {
        method: method as 'GET',
        dispatcher: this.#agent,
        headers: {
          authorization: `Bearer ${this.#token}`,
          ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: o.body === undefined ? undefined : JSON.stringify(o.body),
        signal,
        ...(o.bodyTimeoutMs !== undefined ? { bodyTimeout: o.bodyTimeoutMs } : {}),
      });
    } catch (e) {
      if (o.signal?.aborted) throw e;
      throw new KaployError(
        'KAPLOY_CLIENT',
        `cannot reach the kaploy server ${this.serverName} at ${this.url}: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
  }

  async request<T>(method: string, p: string, o: RequestOptions = {}): Promise<T> {
    return this.#json<T>(await this.#send(method, p, o));
  }

  /** Streams raw bytes with PUT (image uploads, `PUT /files/:md5`); the answer is JSON as for request(). */
  async upload<T>(p: string, body: Readable, o: { signal?: AbortSignal } = {}): Promise<T> {
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(this.#target(p), {
        method: 'PUT',
        dispatcher: this.#agent,
        headers: { authorization: `Bearer ${this.#token}`, 'content-type': 'application/octet-stream' },
        body,
        signal: o.signal,
      });
    } catch (e) {
      if (o.signal?.aborted) throw e;
      throw new KaployError(
        'KAPLOY_CLIENT',
        `cannot reach the kaploy server ${this.serverName} at ${this.url}: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
    return this.#json<T>(res);
  }

  async #json<T>(res: Awaited<ReturnType<typeof request>>): Promise<T> {
    const text = await res.body.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new KaployError(
        'KAPLOY_CLIENT',
        `server ${this.serverName} answered ${res.statusCode} with a non-JSON body`,
      );
    }
    if (res.statusCode >= 400) throw errorFromBody(res.statusCode, json, this.serverName);
    return json as T;
  }

  /** For streamed answers (CSV, logs): the body as a stream, after the status was checked. */
  async stream(method: string, p: string, o: RequestOptions = {}): Promise<Readable> {
    const res = await this.#send(method, p, o);
    if (res.statusCode >= 400) {
      const text = await res.body.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      throw errorFromBody(res.statusCode, json, this.serverName);
    }
    return res.body as unknown as Readable;
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

function errorFromBody(status: number, json: unknown, server: string): KaployError {
  const err = (
    json as { error?: { code?: string; message?: string; fields?: Record<string, unknown> } } | undefined
  )?.error;
  const code = (
    err?.code && err.code in APP_CODES ? err.code : status === 401 ? 'KAPLOY_AUTH' : 'KAPLOY_INTERNAL'
  ) as KaployErrorCode;
  return new KaployError(
    code,
    err?.message ?? `server ${server} answered HTTP ${status}`,
    (err?.fields ?? {}) as never,
  );
}

function anySignal(a: AbortSignal | undefined, b: AbortSignal): AbortSignal {
  return a ? AbortSignal.any([a, b]) : b;
}

/** Builds a client from the client configuration; `server` is the -S NAME option. */
export function createClient(opts: { server?: string; env?: NodeJS.ProcessEnv } = {}): ApiClient {
  const env = opts.env ?? process.env;
  const cfg = loadClientConfig(env.KAPLOY_CLIENT_CONFIG ?? undefined);
  const s = pickServer(cfg, opts.server);
  const token = readToken(env.KAPLOY_TOKEN_FILE ?? s.tokenFile);
  return new ApiClient({ url: s.url, token, serverName: s.name });
}
