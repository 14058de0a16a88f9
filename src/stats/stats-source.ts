import Database from 'better-sqlite3';
import { KaployError } from '../common/errors.js';

/** Where statistics are read from: the engine's open store, or a database file. */
export type StatsSource = Database.Database | string;

export interface StatsReader {
  db: Database.Database;
  /** The connection is the reader's own (not the engine's): it may hold a read transaction. */
  owned: boolean;
  close(): void;
}

/**
 * A streamed export keeps a statement open for as long as the client reads, and better-sqlite3
 * refuses every other statement on a connection while an iterator is open ("This database
 * connection is busy executing a query"). So exports read through their own read-only connection
 * to the same file; in WAL mode it reads a consistent snapshot without blocking the engine's
 * writers. An in-memory database has no file to reopen: it is read directly (tests only).
 */
export function openStatsReader(source: StatsSource): StatsReader {
  const file = typeof source === 'string' ? source : source.memory ? undefined : source.name;
  if (file === undefined && typeof source !== 'string') return { db: source, owned: false, close: () => {} };
  try {
    const db = new Database(file as string, { readonly: true, fileMustExist: true });
    return { db, owned: true, close: () => db.close() };
  } catch (e) {
    throw new KaployError(
      'KAPLOY_DATABASE',
      `cannot open the statistics database ${file}: ${(e as Error).message}`,
      {
        file,
        cause: e,
      },
    );
  }
}
