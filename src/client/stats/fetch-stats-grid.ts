import type { RawStatsQuery, StatsQuery } from '../../stats/query.js';
import type { Io } from '../deploy/follow.js';
import { fanOut, type SiteRun } from '../grid/fan-out.js';
import { gridPlan } from '../grid/grid-plan.js';
import { requireSomeSite } from '../grid/grid-result.js';
import type { GridServer } from '../grid/grid-servers.js';
import { type FetchStatsResult, fetchStats } from './fetch-stats.js';

/**
 * kastat3 -M: one RFC 4180 CSV over every configured server, through the grid fan-out. Each site
 * is asked the same filters and streams its rows; every record gets the server's name as an added
 * first field (records of different sites interleave, never inside a record: a quoted error may
 * span lines). With --header one header line comes first, `server,` then the fields, and the
 * sites are asked without theirs. Failure rates (-b/-c) are lines, `[server]`-prefixed as every
 * -M command's. A site that fails prints its error line on stderr; the others' rows are all there.
 */
export async function fetchStatsGrid(
  servers: readonly GridServer[],
  raw: RawStatsQuery,
  query: StatsQuery,
  io: Io,
  signal: AbortSignal,
): Promise<{ sites: SiteRun<FetchStatsResult>[]; bytes: number }> {
  const plan = await gridPlan(servers, signal);
  try {
    const csv = query.kind !== 'failure-rate';
    const { header: _h, ...perSite } = raw;
    let bytes = 0;
    if (csv && query.header) {
      const line = `server,${query.fields.join(',')}\n`;
      io.out.write(line);
      bytes += line.length;
    }
    const sites = await fanOut(plan, { io, signal, out: csv ? 'csv' : 'lines' }, (site) =>
      fetchStats(site.client, perSite, query, { out: site.io.out, signal: site.signal }),
    );
    requireSomeSite(sites, 'answered');
    for (const s of sites) bytes += s.value?.bytes ?? 0;
    return { sites, bytes };
  } finally {
    await plan.close();
  }
}
