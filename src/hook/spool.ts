import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { assertRestoreRequest, type RestoreRequest } from '../api/restore-request.js';
import { KaployError } from '../common/errors.js';

/**
 * Restore requests not yet acknowledged by the engine: one JSON file per job in the spool
 * directory, written atomically (temporary file, fsync, rename, fsync of the directory) so that
 * a hook killed by OAR's timeout (SIGKILL, no TERM) or a power cut leaves either the whole
 * request or nothing. A file is removed only once the engine has acknowledged (and stored) it.
 */
export interface SpoolEntry {
  request: RestoreRequest;
  created: number;
  /** Failed delivery attempts so far. */
  attempts: number;
  /** Epoch ms before which no new attempt is made (backoff). */
  nextAttemptAt: number;
  lastError: string;
}

export interface SpoolListing {
  pending: SpoolEntry[];
  /** Requests the engine refused (kept for an admin, never retried on their own). */
  rejected: SpoolEntry[];
  /** Files that cannot be read as requests (reported, left in place). */
  unreadable: { file: string; error: string }[];
}

const PENDING_RE = /^job-([1-9][0-9]{0,14})\.json$/;
const REJECTED_RE = /^job-([1-9][0-9]{0,14})\.rejected\.json$/;

export function spoolFile(dir: string, job: number): string {
  return path.join(dir, `job-${job}.json`);
}

function rejectedFile(dir: string, job: number): string {
  return path.join(dir, `job-${job}.rejected.json`);
}

function ensureSpoolDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new KaployError(
      'KAPLOY_FILE',
      `cannot create the spool directory ${dir}: ${(e as NodeJS.ErrnoException).code}`,
      { file: dir, cause: e },
    );
  }
}

/** Writes (or replaces) the job's spool file atomically and durably. */
export function writeSpooled(dir: string, entry: SpoolEntry, file = spoolFile(dir, entry.request.job)): void {
  ensureSpoolDir(dir);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  const data = `${JSON.stringify({ version: 1, ...entry })}\n`;
  try {
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    // The rename itself is durable only once the directory is synced.
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw new KaployError(
      'KAPLOY_FILE',
      `cannot write the restore request ${file}: ${(e as Error).message}`,
      { file, cause: e },
    );
  }
}

export function removeSpooled(dir: string, job: number): void {
  try {
    unlinkSync(spoolFile(dir, job));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** Moves a request the engine refused aside, with the engine's reason. */
export function markRejected(dir: string, entry: SpoolEntry, reason: string): void {
  writeSpooled(dir, { ...entry, lastError: reason }, rejectedFile(dir, entry.request.job));
  removeSpooled(dir, entry.request.job);
}

export function readSpoolEntry(file: string): SpoolEntry {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new KaployError('KAPLOY_FILE', `${file}: unreadable spool file: ${(e as Error).message}`, {
      file,
      cause: e,
    });
  }
  const o = (doc ?? {}) as Record<string, unknown>;
  const num = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : 0);
  return {
    request: assertRestoreRequest(o.request, file),
    created: num(o.created),
    attempts: num(o.attempts),
    nextAttemptAt: num(o.nextAttemptAt),
    lastError: typeof o.lastError === 'string' ? o.lastError.slice(0, 500) : '',
  };
}

/** Everything in the spool, oldest job first. A missing directory is an empty spool. */
export function listSpooled(dir: string): SpoolListing {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { pending: [], rejected: [], unreadable: [] };
    throw new KaployError(
      'KAPLOY_FILE',
      `cannot read the spool directory ${dir}: ${(e as NodeJS.ErrnoException).code}`,
      { file: dir, cause: e },
    );
  }
  const out: SpoolListing = { pending: [], rejected: [], unreadable: [] };
  for (const name of names.sort()) {
    const kind = PENDING_RE.test(name) ? 'pending' : REJECTED_RE.test(name) ? 'rejected' : undefined;
    if (kind === undefined) continue;
    const file = path.join(dir, name);
    try {
      out[kind].push(readSpoolEntry(file));
    } catch (e) {
      out.unreadable.push({ file, error: (e as Error).message });
    }
  }
  const byJob = (a: SpoolEntry, b: SpoolEntry) => a.request.job - b.request.job;
  out.pending.sort(byJob);
  out.rejected.sort(byJob);
  return out;
}
