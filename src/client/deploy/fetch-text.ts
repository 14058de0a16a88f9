import { fetch } from 'undici';
import { KaployError } from '../../common/errors.js';

/** Bounds the download of a small file given as a URL (a description, an authorized_keys). */
const SMALL_DOWNLOAD_TIMEOUT_MS = 30_000;
/** Descriptions and key files are a few kilobytes; this bounds what is held in memory. */
const MAX_SMALL_DOWNLOAD_BYTES = 1024 * 1024;

/**
 * Downloads a small text file the multi-site tutorial publishes on a web server ("the best
 * practice is to store all the common files in a single site"), once for every site.
 */
export async function fetchText(url: string, what: string, signal: AbortSignal): Promise<string> {
  try {
    const res = await fetch(url, {
      signal: AbortSignal.any([signal, AbortSignal.timeout(SMALL_DOWNLOAD_TIMEOUT_MS)]),
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`HTTP ${res.status}`);
    }
    // Read as it comes and stopped at the bound: a server announcing (or sending) 1 TB is not buffered.
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of res.body ?? []) {
      total += chunk.length;
      if (total > MAX_SMALL_DOWNLOAD_BYTES) throw new Error(`larger than ${MAX_SMALL_DOWNLOAD_BYTES} bytes`);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  } catch (e) {
    if (signal.aborted) throw e;
    throw new KaployError('KAPLOY_FILE', `cannot download the ${what} ${url}: ${(e as Error).message}`, {
      file: url,
    });
  }
}
