import { Readable } from 'node:stream';
import type Database from 'better-sqlite3';
import { KaployError } from '../common/errors.js';
import { csvField, registerCsvField } from './csv-encode.js';
import type { StatsQuery } from './query.js';
import { buildPagedRowsSql, buildRowsSql, isPageable } from './sql.js';
import { openStatsReader, type StatsReader, type StatsSource } from './stats-source.js';

export interface CsvExportOptions {
  /** Value of the `site` field (the engine's site name). */
  site?: string;
  signal?: AbortSignal;
}

/** Text accumulated per push: big enough to amortise stream overhead, small enough to stay flat. */
const CHUNK_CHARS = 64 * 1024;

/** Rows per page of a paged export: about 50 KB of CSV, one push each. */
const PAGE_ROWS = 256;

/** The next piece of CSV text, '' when a page was empty, undefined at the end. */
type NextText = () => string | undefined;

/**
 * Rows from the store to CSV text as a byte stream with backpressure: rows are read from SQLite
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
  let next: { text: NextText; end: () => void };
  try {
    registerCsvField(reader.db);
    const plainColumn = reader.db
      .prepare("SELECT 1 FROM pragma_table_info('stats') WHERE name = 'csv_plain'")
      .get();
    const site = csvField(opts.site ?? '');
    next = isPageable(query)
      ? pagedText(reader, query, site, plainColumn !== undefined)
      : rowText(reader.db, query, site, plainColumn !== undefined);
  } catch (e) {
    reader.close();
    throw new KaployError('KAPLOY_DATABASE', `cannot read statistics: ${(e as Error).message}`, { cause: e });
  }
  const header = query.header ? `${query.fields.join(',')}\n` : '';
  return new StatsCsvReadable(reader, next, header, opts.signal);
}

/** One value per row, the record SQLite built, gathered into chunks of CHUNK_CHARS. */
function rowText(
  db: Database.Database,
  query: StatsQuery,
  site: string,
  plainColumn: boolean,
): { text: NextText; end: () => void } {
  const built = buildRowsSql(query, site, plainColumn);
  const rows = db
    .prepare(built.sql)
    .pluck(true)
    .iterate(...built.params) as IterableIterator<string>;
  let done = false;
  return {
    text: () => {
      if (done) return undefined;
      let chunk = '';
      while (chunk.length < CHUNK_CHARS) {
        const r = rows.next();
        if (r.done) {
          done = true;
          return chunk;
        }
        chunk += r.value;
      }
      return chunk;
    },
    end: () => rows.return?.(),
  };
}

/**
 * A page of PAGE_ROWS records per call, joined by SQLite (sql.ts, isPageable). Every page is its
 * own statement, so on our own read connection one read transaction spans them all: the export is
 * one snapshot, as a single statement's would be, whatever the engine records meanwhile.
 */
function pagedText(
  reader: StatsReader,
  query: StatsQuery,
  site: string,
  plainColumn: boolean,
): { text: NextText; end: () => void } {
  const { db } = reader;
  const sql = buildPagedRowsSql(query, site, plainColumn);
  const bound = [false, true].map((after) => db.prepare(sql.bound(after)).raw(true));
  const page = [false, true].map((after) =>
    [false, true].map((upTo) => db.prepare(sql.page(after, upTo)).pluck(true)),
  );
  const inTransaction = reader.owned;
  if (inTransaction) db.exec('BEGIN');
  let cursor: unknown[] = [];
  let left = query.limit ?? Number.POSITIVE_INFINITY;
  let done = left === 0;
  return {
    text: () => {
      if (done) return undefined;
      const after = cursor.length > 0;
      const rows = Math.min(PAGE_ROWS, left);
      const end = bound[Number(after)]?.get(...sql.whereParams, ...cursor, rows - 1) as unknown[] | undefined;
      const params = [...sql.recordParams, ...sql.whereParams, ...cursor, ...(end ?? [])];
      const text = page[Number(after)]?.[Number(end !== undefined)]?.get(...params) as string | null;
      // Without an end key the rows left are fewer than a page: this was the last one.
      if (end === undefined) done = true;
      else {
        cursor = end;
        left -= rows;
        done = left === 0;
      }
      return text ?? '';
    },
    end: () => {
      if (inTransaction && db.inTransaction) db.exec('COMMIT');
    },
  };
}

class StatsCsvReadable extends Readable {
  readonly #reader: StatsReader;
  readonly #next: { text: NextText; end: () => void };
  #pending: string;
  #closed = false;

  constructor(
    reader: StatsReader,
    next: { text: NextText; end: () => void },
    header: string,
    signal?: AbortSignal,
  ) {
    super(signal ? { signal } : {});
    this.#reader = reader;
    this.#next = next;
    this.#pending = header;
  }

  override _read(): void {
    let chunk = this.#pending;
    this.#pending = '';
    try {
      // The last page is empty when the rows ended with the previous one: read on to the end.
      for (;;) {
        const t = this.#next.text();
        if (t === undefined) {
          this.#release();
          if (chunk !== '') this.push(chunk);
          this.push(null);
          return;
        }
        chunk += t;
        if (chunk !== '') break;
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

  /** Ends the statement or the read transaction (frees the connection) and closes our own read connection. */
  #release(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#next.end();
    } finally {
      this.#reader.close();
    }
  }
}
