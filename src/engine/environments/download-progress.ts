import type { Logger } from '../../common/logger.js';

/** Where one download is: bytes so far, of how many (when announced), at what rate. */
export interface DownloadProgress {
  url: string;
  bytes: number;
  total?: number;
  /** Bytes per second since the start. */
  rate: number;
  /** Since the download started. */
  elapsedMs: number;
  done: boolean;
}

/**
 * A download's report at most every this long (a follower of the deployment's log sees it move),
 * or at every further 10 % of an announced size.
 */
const EVERY_MS = 1_000;
const STEP = 0.1;

/**
 * Turns the byte counter of a download into a few reports (every ~1 s or 10 %, and one at the
 * end), so a log shows a multi-gigabyte download moving without a line per chunk.
 */
export function progressThrottle(
  url: string,
  total: number | undefined,
  report: (p: DownloadProgress) => void,
  everyMs = EVERY_MS,
): { bytes: (n: number) => void; end: (n: number) => void } {
  const start = Date.now();
  let lastAt = start;
  let lastFraction = 0;
  const make = (n: number, done: boolean): DownloadProgress => {
    const elapsedMs = Date.now() - start;
    const secs = Math.max(elapsedMs / 1000, 0.001);
    return { url, bytes: n, ...(total !== undefined ? { total } : {}), rate: n / secs, elapsedMs, done };
  };
  return {
    bytes(n) {
      const now = Date.now();
      const fraction = total ? n / total : 0;
      if (now - lastAt < everyMs && !(total && fraction - lastFraction >= STEP)) return;
      if (total && n >= total) return; // the end has its own report
      lastAt = now;
      lastFraction = fraction;
      report(make(n, false));
    },
    end(n) {
      report(make(n, true));
    },
  };
}

/** `1.2 GB`: decimal units, as download tools print them. */
export function humanBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** The log line of a report: `Downloading URL: 1.2 GB of 4.0 GB (30%), 110.0 MB/s`. */
function progressLine(p: DownloadProgress): string {
  const of =
    p.total !== undefined
      ? ` of ${humanBytes(p.total)} (${Math.floor((100 * p.bytes) / Math.max(p.total, 1))}%)`
      : '';
  return p.done
    ? `Downloaded ${p.url}: ${humanBytes(p.bytes)}, ${humanBytes(p.rate)}/s`
    : `Downloading ${p.url}: ${humanBytes(p.bytes)}${of}, ${humanBytes(p.rate)}/s`;
}

/** Called with each download's progress (a few times: every ~1 s or 10 %), e.g. into a log. */
export type OnDownloadProgress = (line: string, p: DownloadProgress) => void;

/** A download's reports into the engine's log, and to `onProgress` (the user's log) when given. */
export function progressReporter(
  logger: Logger,
  onProgress?: OnDownloadProgress,
): (p: DownloadProgress) => void {
  return (p) => {
    const line = progressLine(p);
    logger.info({ url: p.url, bytes: p.bytes, total: p.total, rate: Math.round(p.rate) }, line);
    onProgress?.(line, p);
  };
}
