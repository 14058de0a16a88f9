import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';

/**
 * GET of an image URL with node:http(s), following up to 5 redirects; resolves with the body
 * stream once the status is 2xx. Not undici: undici 7 can take the whole engine down on a bad
 * server (see docs/decisions/0007-image-downloads-on-node-http.md).
 */
export function httpGet(url: string, signal?: AbortSignal, redirects = 5): Promise<Readable> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new Error(`invalid URL ${url}`));
      return;
    }
    const mod = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : undefined;
    if (!mod) {
      reject(new Error(`unsupported protocol ${u.protocol}`));
      return;
    }
    const req = mod.get(u, { ...(signal ? { signal } : {}) }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects <= 0) {
          reject(new Error('too many redirects'));
          return;
        }
        httpGet(new URL(res.headers.location, u).toString(), signal, redirects - 1).then(resolve, reject);
        return;
      }
      if (status < 200 || status >= 300) {
        res.resume();
        reject(new Error(`HTTP ${status}`));
        return;
      }
      resolve(res);
    });
    req.on('error', reject);
  });
}
