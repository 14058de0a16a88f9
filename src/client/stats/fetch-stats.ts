import { pipeline } from 'node:stream/promises';
import { formatFailureRate, type NodeFailureRate } from '../../stats/failure-rates.js';
import type { RawStatsQuery, StatsQuery } from '../../stats/query.js';
import { GarbageCadence } from '../garbage-cadence.js';
import type { ApiClient } from '../http-client.js';

export interface FetchStatsOptions {
  out: NodeJS.WritableStream;
  signal?: AbortSignal;
}

/** What was printed: lets the CLI say "No information is available" as Kadeploy did. */
export interface FetchStatsResult {
  bytes: number;
}

/**
 * Asks an engine for statistics and writes them to `out`: CSV rows as they stream in (never held
 * whole), or one `node: 12.34%` line per node for failure rates. A reader that stops early
 * (`| head`) ends the transfer quietly: EPIPE on `out` is not an error.
 */
export async function fetchStats(
  client: ApiClient,
  raw: RawStatsQuery,
  query: StatsQuery,
  opts: FetchStatsOptions,
): Promise<FetchStatsResult> {
  const params = { ...raw } as Record<string, string | string[] | undefined>;
  if (query.kind === 'failure-rate') {
    const { rates } = await client.request<{ rates: NodeFailureRate[] }>('GET', '/stats', {
      query: params,
      signal: opts.signal,
    });
    const text = rates.map((r) => `${formatFailureRate(r)}\n`).join('');
    await writeAll(opts.out, text);
    return { bytes: text.length };
  }
  const body = await client.stream('GET', '/stats', { query: params, signal: opts.signal });
  let bytes = 0;
  const garbage = new GarbageCadence();
  body.on('data', (c: Buffer) => {
    bytes += c.length;
    garbage.read(c.length);
  });
  try {
    await pipeline(body, opts.out, { end: false, signal: opts.signal });
  } catch (e) {
    if (!isEpipe(e)) throw e;
    body.destroy();
  }
  return { bytes };
}

function isEpipe(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
}

async function writeAll(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (text === '') return;
  await new Promise<void>((resolve, reject) => {
    out.write(text, (err) => (err && !isEpipe(err) ? reject(err) : resolve()));
  });
}
