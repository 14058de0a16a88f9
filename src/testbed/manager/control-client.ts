import { KaployError } from '../../common/errors.js';
import type { NodeStatus } from '../node/index.js';
import { bmcUrl, type TestbedState } from './testbed-state.js';

/** The Authorization header of the control API (none for a site started before tokens). */
export const controlAuth = (s: TestbedState): Record<string, string> =>
  s.token ? { authorization: `Bearer ${s.token}` } : {};

/** Calls the daemon's control API (the BMC-like HTTP API) and turns failures into KaployErrors. */
export async function callControl(
  s: TestbedState,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  o: { body?: unknown; signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<unknown> {
  const signals = [AbortSignal.timeout(o.timeoutMs ?? 10_000), ...(o.signal ? [o.signal] : [])];
  let res: Response;
  try {
    res = await fetch(`${bmcUrl(s)}${path}`, {
      method,
      signal: AbortSignal.any(signals),
      headers: {
        ...controlAuth(s),
        ...(o.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
    });
  } catch (e) {
    if (o.signal?.aborted) throw e;
    throw new KaployError(
      'KAPLOY_NOT_FOUND',
      `the virtual site '${s.site}' does not answer on ${bmcUrl(s)} (${(e as Error).message}): is it up?`,
      {
        cause: e,
      },
    );
  }
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  const body: unknown = type.includes('json') && text ? JSON.parse(text) : text;
  if (!res.ok) {
    const err = (body as { error?: { code?: string; message?: string } }).error;
    const code =
      err?.code === 'KAPLOY_NODE_LIST' || err?.code === 'KAPLOY_OPTION' || err?.code === 'KAPLOY_AUTH'
        ? err.code
        : 'KAPLOY_NOT_FOUND';
    throw new KaployError(code, err?.message ?? `${method} ${path}: HTTP ${res.status}`);
  }
  return body;
}

export async function listStatuses(s: TestbedState, signal?: AbortSignal): Promise<NodeStatus[]> {
  return (await callControl(s, 'GET', '/nodes', { signal })) as NodeStatus[];
}

export interface Health {
  ready: boolean;
  pid: number;
  nodes: number;
  /** Nodes started and powered on so far. */
  started?: number;
  error?: string;
}
