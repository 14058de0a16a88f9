import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { APP_CODES, isKaployError, KaployError, type KaployErrorCode } from '../common/errors.js';
import { readPemFile } from '../common/pem-file.js';
import { readToken } from '../common/token-file.js';
import { clientConfigPath, DEFAULT_SERVER_TIMEOUT_S, loadClientConfig, pickServer } from './client-config.js';

/**
 * HTTP client used by every command (and the grid orchestrator) to talk to an engine.
 * Errors from the engine (`{error: {code, appCode, message, fields}}`) come back as KaployError
 * with the same code; a server that cannot be reached, or answers no JSON, is KAPLOY_CLIENT; one
 * that stops answering for the deadline is ServerSilentError (KAPLOY_CLIENT too).
 */
export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined | string[]>;
  body?: unknown;
  signal?: AbortSignal;
  /** A bound on the whole request (the -M probe's 5 s), on top of the silence deadline. */
  timeoutMs?: number;
  /** Longest silence allowed inside a streamed body (undici's default is 300 s; 0 = none, for consoles). */
  bodyTimeoutMs?: number;
}

export class ApiClient {
  readonly url: string;
  readonly serverName: string;
  /** server_timeout: the longest the engine may stay silent while a request of ours waits. */
  readonly deadlineMs: number;
  readonly #token: string;
  readonly #agent: Agent;
  readonly #liveness: Liveness;

  constructor(opts: {
    url: string;
    token: string;
    serverName?: string;
    deadlineMs?: number;
    /** PEM CA (or pinned certificate) an https engine is verified against; absent: the system's CAs. */
    ca?: Buffer;
  }) {
    this.url = opts.url.replace(/\/+$/, '');
    this.serverName = opts.serverName ?? this.url;
    this.deadlineMs = opts.deadlineMs ?? DEFAULT_SERVER_TIMEOUT_S * 1000;
    this.#token = opts.token;
    this.#agent = new Agent({
      keepAliveTimeout: 10_000,
      connections: 16,
      ...(opts.ca ? { connect: { ca: opts.ca } } : {}),
    });
    this.#liveness = new Liveness(this.#agent, `${this.url}/version`, this.deadlineMs);
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

  /**
   * Every request runs under the engine's silence deadline (`guarded`): a request may take long
   * (a long poll, an image the engine downloads before answering POST /deployment) as long as the
   * engine answers something; one that stopped answering (hung, SIGSTOPped, its host gone) fails
   * with ServerSilentError once nothing was heard from it for `deadlineMs`.
   */
  async #guarded<T>(
    o: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined },
    run: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const silent = new AbortController();
    const signals = [
      silent.signal,
      ...(o.signal ? [o.signal] : []),
      ...(o.timeoutMs ? [AbortSignal.timeout(o.timeoutMs)] : []),
    ];
    const stop = this.#liveness.watch(silent);
    try {
      return await run(AbortSignal.any(signals));
    } catch (e) {
      if (o.signal?.aborted) throw e;
      if (silent.signal.aborted) throw new ServerSilentError(this.serverName, this.url, this.deadlineMs, e);
      if (isKaployError(e)) throw e;
      throw new ServerUnreachableError(
        `cannot reach the kaploy server ${this.serverName} at ${this.url}: ${(e as Error).message}${tlsHint(e)}`,
        e,
      );
    } finally {
      stop();
    }
  }

  #send(method: string, p: string, o: RequestOptions, signal: AbortSignal) {
    return request(this.#target(p, o.query), {
      method: method as 'GET',
      dispatcher: this.#agent,
      headers: {
        authorization: `Bearer ${this.#token}`,
        ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
      signal,
      headersTimeout: 0,
      bodyTimeout: o.bodyTimeoutMs ?? this.deadlineMs,
    }).then((res) => {
      this.#liveness.heard();
      return res;
    });
  }

  /** A JSON request; its answer (body included) within the silence deadline, or `timeoutMs` when given. */
  async request<T>(method: string, p: string, o: RequestOptions = {}): Promise<T> {
    return this.#guarded(o, async (signal) => this.#json<T>(await this.#send(method, p, o, signal)));
  }

  /** Streams raw bytes with PUT (image uploads, `PUT /files/:md5`); the answer is JSON as for request(). */
  async upload<T>(p: string, body: Readable, o: { signal?: AbortSignal } = {}): Promise<T> {
    return this.#guarded(o, async (signal) => {
      const res = await request(this.#target(p), {
        method: 'PUT',
        dispatcher: this.#agent,
        headers: { authorization: `Bearer ${this.#token}`, 'content-type': 'application/octet-stream' },
        body,
        signal,
        headersTimeout: 0,
        bodyTimeout: this.deadlineMs,
      });
      this.#liveness.heard();
      return this.#json<T>(res);
    });
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

  /**
   * For streamed answers (CSV, logs): the body as a stream, after the status was checked. The
   * headers come within the silence deadline; then the body may pause at most `bodyTimeoutMs`
   * (default the same deadline; 0 for a console, silent as long as its node is).
   */
  async stream(method: string, p: string, o: RequestOptions = {}): Promise<Readable> {
    return this.#guarded(o, async (signal) => {
      const res = await this.#send(method, p, o, signal);
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
    });
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

/** The engine said nothing for the client's deadline: with -M its site is lost (Server-lost). */
export class ServerSilentError extends KaployError {
  constructor(server: string, url: string, deadlineMs: number, cause: unknown) {
    super(
      'KAPLOY_CLIENT',
      `the kaploy server ${server} at ${url} stopped answering: nothing heard from it for ${Math.round(deadlineMs / 1000)} s (server_timeout)`,
      { cause },
    );
  }
}

/**
 * The engine could not be reached, or its connection broke before it answered (refused, reset,
 * closed: an engine restarting): a follower asks again for a while (follow.ts).
 */
export class ServerUnreachableError extends KaployError {
  constructor(message: string, cause: unknown) {
    super('KAPLOY_CLIENT', message, { cause });
  }
}

/** How often a waiting request checks the engine's silence (the figure bench/grid-hang.mjs measures). */
const TICK_MAX_MS = 500;
/** Silence after which a heartbeat is sent: above the default long poll (1 s), so a follower sends none. */
const HEARTBEAT_AFTER_MAX_MS = 5_000;

/**
 * The engine's liveness as one client sees it: when it last answered anything, and a heartbeat
 * (`GET /version`; any HTTP status counts: it answered) sent once a request has heard nothing for a
 * while, at most one at a time for the client. A request whose engine stayed silent for the whole
 * deadline is aborted: that bounds a hung engine without bounding a long but live request.
 */
class Liveness {
  readonly #agent: Agent;
  readonly #url: string;
  readonly #deadlineMs: number;
  readonly #tickMs: number;
  readonly #beatAfterMs: number;
  #lastHeard = 0;
  #beating: AbortController | undefined;
  #watching = 0;

  constructor(agent: Agent, url: string, deadlineMs: number) {
    this.#agent = agent;
    this.#url = url;
    this.#deadlineMs = deadlineMs;
    this.#tickMs = Math.min(TICK_MAX_MS, Math.max(20, Math.floor(deadlineMs / 10)));
    this.#beatAfterMs = Math.min(HEARTBEAT_AFTER_MAX_MS, Math.floor(deadlineMs / 3));
  }

  heard(): void {
    this.#lastHeard = Date.now();
  }

  /** Watches one request; returns its stop function. */
  watch(silent: AbortController): () => void {
    const started = Date.now();
    this.#watching++;
    const timer = setInterval(() => {
      const since = Date.now() - Math.max(started, this.#lastHeard);
      if (since >= this.#deadlineMs) {
        silent.abort(new Error('server silent'));
        return;
      }
      if (since >= this.#beatAfterMs) this.#beat();
    }, this.#tickMs);
    timer.unref();
    return () => {
      clearInterval(timer);
      // No request waits any more: a heartbeat still out (to a hung engine) must not hold close().
      if (--this.#watching === 0) this.#beating?.abort();
    };
  }

  #beat(): void {
    if (this.#beating) return;
    const ac = new AbortController();
    this.#beating = ac;
    request(this.#url, {
      dispatcher: this.#agent,
      signal: AbortSignal.any([ac.signal, AbortSignal.timeout(this.#deadlineMs)]),
      headersTimeout: 0,
    })
      .then(async (res) => {
        this.heard();
        await res.body.dump();
      })
      .catch(() => undefined)
      .finally(() => {
        if (this.#beating === ac) this.#beating = undefined;
      });
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

/** A certificate the client could not verify: say what to configure, not only OpenSSL's words. */
function tlsHint(e: unknown): string {
  const code = String(
    (e as { code?: unknown }).code ?? (e as { cause?: { code?: unknown } }).cause?.code ?? '',
  );
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME/.test(code)
    ? " (the engine's certificate is not trusted: give its CA, or the certificate itself, as `ca:` of this server in the client configuration)"
    : '';
}

/** Builds a client from the client configuration; `server` is the -S NAME option. */
export function createClient(opts: { server?: string; env?: NodeJS.ProcessEnv } = {}): ApiClient {
  const env = opts.env ?? process.env;
  const cfg = loadClientConfig(clientConfigPath(env));
  const s = pickServer(cfg, opts.server);
  const token = readToken(env.KAPLOY_TOKEN_FILE ?? s.tokenFile);
  return new ApiClient({
    url: s.url,
    token,
    serverName: s.name,
    deadlineMs: cfg.serverTimeoutMs,
    ...(s.caFile ? { ca: readPemFile(s.caFile, `the CA of server ${s.name} (ca)`) } : {}),
  });
}
