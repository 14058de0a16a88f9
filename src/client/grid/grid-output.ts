import { finished } from 'node:stream/promises';
import type { Io } from '../deploy/follow.js';
import type { SiteOutputs } from '../deploy/site-output.js';
import { progressWanted } from '../terminal-settings.js';
import { GridProgress } from './grid-progress.js';
import { csvServerPrefix, prefixedLines, serverPrefix } from './server-prefix.js';

/**
 * -M's output: each site's lines prefixed with its name onto the shared streams, and on a
 * terminal (when `progress` is wanted) one progress line over every site, wiped before each line.
 * The sites' own streams are not terminals, so follow() draws no line of its own. With
 * `out: 'csv'` (kastat3 -M) stdout carries CSV records, each prefixed with the server's name as a
 * first field; errors stay `[site]`-prefixed lines on stderr.
 */
export function gridOutputs(
  io: Io,
  sites: readonly string[],
  progress: boolean,
  out: 'lines' | 'csv' = 'lines',
): SiteOutputs {
  const line = progress && progressWanted(io.err) ? new GridProgress(io.err, sites) : undefined;
  const via = (s: NodeJS.WritableStream) =>
    line
      ? {
          write: (text: string) => {
            line.beforeLine();
            return s.write(text);
          },
        }
      : s;
  return {
    open(site) {
      const prefix = serverPrefix(site);
      const o =
        out === 'csv'
          ? prefixedLines(via(io.out), csvServerPrefix(site), 'csv-record')
          : prefixedLines(via(io.out), prefix);
      const err = prefixedLines(via(io.err), prefix);
      return {
        out: o,
        err,
        async close() {
          o.end();
          err.end();
          await Promise.all([finished(o), finished(err)]);
        },
      };
    },
    onStatus: (site) => (line ? (st) => line.update(site, st) : undefined),
    start: () => line?.start(),
    stop: () => line?.stop(),
  };
}
