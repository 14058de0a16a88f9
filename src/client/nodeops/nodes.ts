import type { OperationStatus } from '../../api/operation-status.js';
import { KaployError } from '../../common/errors.js';
import { queuedAt } from '../deploy/progress-line.js';
import type { ApiClient } from '../http-client.js';

export type KanodesMode = 'nodes' | 'deploy' | 'reboot' | 'power' | 'console' | 'all';

export interface KanodesOptions {
  mode: KanodesMode;
  /** -m/-f: only these nodes. */
  nodes?: string[];
  /** -w: only this operation, with its per-node detail. */
  wid?: string;
}

interface NodeRowView {
  name: string;
  state: string;
  env: string;
  env_user: string;
  user: string;
  wid: string;
}
interface RunningOp {
  wid: string;
  kind: 'deploy' | 'reboot' | 'power' | 'console';
  user: string;
  nodes: string[];
  /** Queued by the site's admission control: its 1-based place in the queue. */
  queued?: number;
}

const ROUTE = { deploy: 'deployment', reboot: 'reboot', power: 'power' } as const;

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map(
      (r) =>
        `${r
          .map((c, i) => c.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd()}\n`,
    )
    .join('');
}

/**
 * kanodes3 as a library: the state of every node and the environment it runs (-s, the default), or
 * the running operations (-d deployments, -r reboots, -p power, -c consoles, -a all), optionally
 * one operation (-w WID) with each node's current step.
 */
export async function runKanodes(
  client: ApiClient,
  o: KanodesOptions,
  out: NodeJS.WritableStream,
  signal: AbortSignal,
): Promise<void> {
  const only = o.nodes ? new Set(o.nodes) : undefined;
  if (o.mode === 'nodes') {
    const rows = await client.request<NodeRowView[]>('GET', '/nodes', { signal });
    const picked = rows.filter((r) => !only || only.has(r.name));
    if (only) {
      const unknown = [...only].filter((n) => !rows.some((r) => r.name === n));
      if (unknown.length > 0)
        throw new KaployError('KAPLOY_NODE_LIST', `unknown node(s): ${unknown.join(', ')}`, {
          node: unknown[0],
        });
    }
    out.write(
      table([
        ['NODE', 'STATE', 'ENVIRONMENT', 'ENV_USER', 'USER', 'OPERATION'],
        ...picked.map((r) => [r.name, r.state, r.env || '-', r.env_user || '-', r.user || '-', r.wid || '-']),
      ]),
    );
    return;
  }
  const ops = (await client.request<RunningOp[]>('GET', '/operations', { signal })).filter(
    (op) =>
      (o.mode === 'all' || op.kind === o.mode) &&
      (!o.wid || op.wid === o.wid) &&
      (!only || op.nodes.some((n) => only.has(n))),
  );
  if (o.wid && ops.length === 0) {
    // Finished operations are no longer running: show their final state when the caller owns them.
    const kind = o.wid.startsWith('R-')
      ? 'reboot'
      : o.wid.startsWith('P-')
        ? 'power'
        : o.wid.startsWith('D-')
          ? 'deploy'
          : undefined;
    if (!kind) throw new KaployError('KAPLOY_INVALID_WORKFLOW_ID', `no running operation ${o.wid}`);
    const st = await client.request<OperationStatus>('GET', `/${ROUTE[kind]}/${o.wid}`, { signal });
    out.write(`${st.wid}  ${st.kind}  ${st.user}  ${st.status}\n${nodeLines(st, only)}`);
    return;
  }
  if (ops.length === 0) {
    out.write('No running operation\n');
    return;
  }
  for (const op of ops) {
    const queued = typeof op.queued === 'number' ? `  ${queuedAt({ queuePosition: op.queued })}` : '';
    out.write(`${op.wid}  ${op.kind}  ${op.user}  ${op.nodes.length} node(s)${queued}\n`);
    const status =
      op.kind === 'console'
        ? undefined
        : await client
            .request<OperationStatus>('GET', `/${ROUTE[op.kind]}/${op.wid}`, { signal })
            .catch(() => undefined);
    if (status) out.write(nodeLines(status, only));
    else
      out.write(
        op.nodes
          .filter((n) => !only || only.has(n))
          .map((n) => `  ${n}\n`)
          .join(''),
      );
  }
}

function nodeLines(st: OperationStatus, only?: Set<string>): string {
  return Object.entries(st.nodes)
    .filter(([n]) => !only || only.has(n))
    .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
    .map(([n, v]) => {
      const where = v.macro && v.micro ? ` (${v.macro}-${v.micro})` : v.micro ? ` (${v.micro})` : '';
      return `  ${n}: ${v.state}${where}${v.error ? `: ${v.error}` : ''}\n`;
    })
    .join('');
}
