import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MD5_RE } from '../../common/md5.js';

/** What the engine knows of a URL it downloaded: its content's checksum and the HTTP validators. */
export interface UrlEntry {
  url: string;
  md5: string;
  size: number;
  etag?: string;
  lastModified?: string;
}

/** Validators are short strings; anything else in a file is not ours and is ignored. */
const MAX_VALIDATOR = 1024;

function valid(e: unknown, url: string): e is UrlEntry {
  if (typeof e !== 'object' || e === null) return false;
  const o = e as Record<string, unknown>;
  const opt = (v: unknown) => v === undefined || (typeof v === 'string' && v.length <= MAX_VALIDATOR);
  return (
    o.url === url &&
    typeof o.md5 === 'string' &&
    MD5_RE.test(o.md5) &&
    typeof o.size === 'number' &&
    opt(o.etag) &&
    opt(o.lastModified)
  );
}

/**
 * One small JSON file per downloaded URL (`cache/urls/<sha256 of the URL>.json`), written whole
 * and renamed into place: lets a later deployment of the same URL ask the server "changed since?"
 * (If-None-Match / If-Modified-Since) instead of downloading it again, even without an md5.
 */
export class UrlIndex {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  #file(url: string): string {
    return path.join(this.dir, `${createHash('sha256').update(url).digest('hex')}.json`);
  }

  get(url: string): UrlEntry | undefined {
    try {
      const e: unknown = JSON.parse(readFileSync(this.#file(url), 'utf8'));
      return valid(e, url) ? e : undefined;
    } catch {
      return undefined;
    }
  }

  set(e: UrlEntry): void {
    const file = this.#file(e.url);
    const tmp = path.join(this.dir, `.tmp-kaploy-${process.pid}-${randomBytes(8).toString('hex')}`);
    try {
      writeFileSync(tmp, JSON.stringify(e), { mode: 0o600 });
      renameSync(tmp, file);
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  delete(url: string): void {
    rmSync(this.#file(url), { force: true });
  }
}
