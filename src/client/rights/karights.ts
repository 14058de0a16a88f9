import type { Writable } from 'node:stream';
import { stringify } from 'yaml';
import type { RightRow } from '../../api/rights.js';
import type { ApiClient } from '../http-client.js';

/** karights3 as a library: grant (-a), revoke (-d) or list (-l) rights. */
export interface KarightsOptions {
  action: 'add' | 'delete' | 'list';
  user?: string;
  nodes?: string[]; // already expanded; '*' = every node
  partitions?: string[];
  overwrite?: boolean;
}

export async function runKarights(
  opts: KarightsOptions,
  io: { client: ApiClient; stdout: Writable; stderr: Writable; signal?: AbortSignal },
): Promise<number> {
  const { client, stdout, signal } = io;
  const sig = signal ? { signal } : {};
  if (opts.action === 'list') {
    const rows = await client.request<RightRow[]>('GET', '/rights', {
      query: { user: opts.user, node: opts.nodes },
      ...sig,
    });
    if (rows.length === 0) {
      io.stderr.write('No rights have been found\n');
      return 0;
    }
    // Kadeploy prints user -> node -> partitions.
    const tree: Record<string, Record<string, string[]>> = {};
    for (const r of rows) {
      const u = tree[r.user] ?? {};
      tree[r.user] = u;
      u[r.node] = [...(u[r.node] ?? []), r.partition];
    }
    stdout.write(stringify(tree));
    return 0;
  }
  if (opts.action === 'add') {
    const res = await client.request<{ added: number; cancelled: string[] }>('POST', '/rights', {
      body: {
        user: opts.user,
        nodes: opts.nodes,
        partitions: opts.partitions,
        overwrite: opts.overwrite === true,
      },
      ...sig,
    });
    stdout.write(`${res.added} right(s) added for user ${opts.user}\n`);
    if (res.cancelled.length)
      stdout.write(`Operations cancelled (rights overwritten): ${res.cancelled.join(' ')}\n`);
    return 0;
  }
  const res = await client.request<{ removed: number; cancelled: string[] }>('DELETE', '/rights', {
    body: { user: opts.user, nodes: opts.nodes, ...(opts.partitions ? { partitions: opts.partitions } : {}) },
    ...sig,
  });
  stdout.write(`${res.removed} right(s) removed for user ${opts.user}\n`);
  if (res.cancelled.length)
    stdout.write(`Operations cancelled (rights revoked): ${res.cancelled.join(' ')}\n`);
  return 0;
}
