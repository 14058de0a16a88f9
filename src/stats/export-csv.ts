import { Readable } from 'node:stream';
import { KaployError } from '../common/errors.js';
import { csvField, registerCsvField } from './csv-encode.js';
import type { StatsQuery } from './query.js';
import { buildRowsSql } from './sql.js';
import { openStatsReader, type StatsReader, type StatsSource } from './stats-source.js';

export interface CsvExportOptions {
  /** Value of the `site` field (the engine's site name). */
  site?: string;
  signal?: AbortSignal;
}

/** Text accumulated per push: big enough to amortise stream overhead, small enough to stay flat. */
const CHUNK_CHARS = 64 * 1024;

/**
 * Rows from the store to CSV text as a byte stream with backpressure: a row is read from SQLite
 * only when the consumer wants more, so memory stays flat whatever the history size. Opening and
 * preparing happen now, so a bad database surfaces as an error before any byte is sent.
 */
export function exportStatsCsv(
  source: StatsSource,
  query: StatsQuery,
  opts: CsvExportOptions = {},
): Readable {
  if (query.kind === 'failure-rate') {
    throw new KaployError('KAPLOY_INTERNAL', 'failure rates are not rows: use failureRates()');
  }
  const reader = openStatsReader(source);
  let rows: IterableIterator<string>;
  try {
    registerCsvField(reader.db);
    const plainColumn = reader.db
      .prepare("SELECT 1 FROM pragma_table_info('stats') WHERE name = 'csv_plain'")
      .get();
    const built = buildRowsSql(query, csvField(opts.site ?? ''), plainColumn !== undefined);
    // One value per row, the record SQLite built: the fewest crossings into JavaScript.
    rows = reader.db
      .prepare(built.sql)
      .pluck(true)
      .iterate(...built.params) as IterableIterator<string>;
  } catch (e) {
    reader.close();
    throw new KaployError('KAPLOY_DATABASE', `cannot read statistics: ${(e as Error).message}`, { cause: e });
  }
  return new StatsCsvReadable(reader, rows, query.header ? `${query.fields.join(',')}\n` : '', opts.signal);
}

class StatsCsvReadable extends Readable {
  readonly #reader: StatsReader;
  readonly #rows: IterableIterator<string>;
  #pending: string;
  #closed = false;

  constructor(reader: StatsReader, rows: IterableIterator<string>, header: string, signal?: AbortSignal) {
    super(signal ? { signal } : {});
    this.#reader = reader;
    this.#rows = rows;
    this.#pending = header;
  }

  override _read(): void {
    let chunk = this.#pending;
    this.#pending = '';
    try {
      while (chunk.length < CHUNK_CHARS) {
        const r = this.#rows.next();
        if (r.done) {
          this.#release();
          if (chunk !== '') this.push(chunk);
          this.push(null);
          return;
        }
        chunk += r.value;
      }
    } catch (e) {
      this.destroy(
        new KaployError('KAPLOY_DATABASE', `reading statistics failed: ${(e as Error).message}`, {
          cause: e,
        }),
      );
      return;
    }
    this.push(chunk);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#release();
    cb(err);
  }

  /** Ends the statement (frees the connection) and closes our own read connection. */
  #release(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#rows.return?.();
    this.#reader.close();
  }
}
