import type { RestoreRequest } from '../api/restore-request.js';
import type { RestoreRow, RestoreState } from '../api/restores.js';
import { isKaployError } from '../common/errors.js';
import { readPemFile } from '../common/pem-file.js';
import { readToken } from '../common/token-file.js';
import { EngineHttp, type EngineRequester } from './engine-http.js';

/**
 * The engine calls the hooks make, each bounded by the request timeout and the hook's signal.
 * Rights: `POST|DELETE /rights` (admin); restores: `POST /restores` (src/engine/oar-restore/routes-restores.ts).
 */
export class HookEngine {
  readonly #client: EngineRequester;
  readonly #timeoutMs: number;

  constructor(client: EngineRequester, timeoutMs: number) {
    this.#client = client;
    this.#timeoutMs = timeoutMs;
  }

  /** Reads the admin token (mode 600, as the client requires) and builds the client. */
  static fromConfig(c: {
    engineUrl: string;
    adminTokenFile: string;
    engineCaFile?: string;
    requestTimeoutMs: number;
  }): HookEngine {
    const ca = c.engineCaFile ? readPemFile(c.engineCaFile, 'the engine CA (engine_ca)') : undefined;
    return new HookEngine(
      new EngineHttp({ url: c.engineUrl, token: readToken(c.adminTokenFile), ...(ca ? { ca } : {}) }),
      c.requestTimeoutMs,
    );
  }

  /** Grants for the job's lifetime; the job id lets a late request of an older job spare them. */
  async grant(
    user: string,
    nodes: string[],
    partitions: string[],
    job: number,
    signal: AbortSignal,
  ): Promise<void> {
    await this.#client.request('POST', '/rights', {
      body: { user, nodes, partitions, job },
      signal,
      timeoutMs: this.#timeoutMs,
    });
  }

  /**
   * Revokes the user's rights on the nodes granted by hand or for this job or an older one (not a
   * later job's); the engine then cancels their operations where no right is left.
   */
  async revoke(
    user: string,
    nodes: string[],
    job: number,
    signal: AbortSignal,
  ): Promise<{ removed: number; cancelled: string[] }> {
    return this.#client.request('DELETE', '/rights', {
      body: { user, nodes, partitions: ['*'], job },
      signal,
      timeoutMs: this.#timeoutMs,
    });
  }

  async requestRestore(req: RestoreRequest, signal: AbortSignal): Promise<{ job: number; added: number }> {
    return this.#client.request('POST', '/restores', { body: req, signal, timeoutMs: this.#timeoutMs });
  }

  async listRestores(
    filter: { state?: RestoreState; job?: number },
    signal: AbortSignal,
  ): Promise<RestoreRow[]> {
    const r = await this.#client.request<{ restores: RestoreRow[] }>('GET', '/restores', {
      query: filter,
      signal,
      timeoutMs: this.#timeoutMs,
    });
    return r.restores;
  }

  async retryRestores(filter: { job?: number; nodes?: string[] }, signal: AbortSignal): Promise<number> {
    const r = await this.#client.request<{ retried: number }>('POST', '/restores/retry', {
      body: filter,
      signal,
      timeoutMs: this.#timeoutMs,
    });
    return r.retried;
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}

/**
 * Whether a failed call may succeed later unchanged: the engine down or restarting, a timeout, an
 * internal error, a missing route (an engine not yet upgraded), bad credentials an admin can fix.
 * A request the engine refused as invalid will not.
 */
export function isRetryableEngineError(e: unknown): boolean {
  if (!isKaployError(e)) return true;
  return ![
    'KAPLOY_OPTION',
    'KAPLOY_NODE_LIST',
    'KAPLOY_MISSING_OPTION',
    'KAPLOY_CONFLICTING_OPTIONS',
  ].includes(e.code);
}
