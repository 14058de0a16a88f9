// Image bytes served by a depot when 3 site engines each run 3 concurrent deployments of one
// image URL (the engines' image caches, dist/engine/environments): target one image per site.
// Then a 4th deployment per site, which revalidates (304) instead of downloading.
// Usage: npm run build && node bench/download-dedup.mjs [MiB]
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fetchIntoCache } from '../dist/engine/environments/fetch-url.js';
import { FileCache } from '../dist/engine/environments/file-cache.js';

const mib = Number(process.argv[2] ?? 64);
const image = Buffer.alloc(mib * 1024 * 1024, 7);
const etag = '"bench-1"';
let served = 0;
let requests = 0;
let notModified = 0;
const depot = http.createServer((req, res) => {
  requests++;
  if (req.headers['if-none-match'] === etag) {
    notModified++;
    res.writeHead(304, { etag }).end();
    return;
  }
  served += image.length;
  res.writeHead(200, { 'content-length': image.length, etag }).end(image);
});
await new Promise((r) => depot.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${depot.address().port}/~user/image.tgz`;
const root = mkdtempSync(path.join(os.tmpdir(), 'kaploy-bench-dl-'));
try {
  const sites = [1, 2, 3].map((i) => new FileCache(path.join(root, `site${i}`)));
  const t0 = performance.now();
  await Promise.all(sites.flatMap((c) => [1, 2, 3].map(() => fetchIntoCache(c, url))));
  const t1 = performance.now();
  const firstServed = served;
  await Promise.all(sites.map((c) => fetchIntoCache(c, url)));
  const t2 = performance.now();
  console.log(`image ${mib} MiB, 3 sites x 3 concurrent deployments of one URL`);
  console.log(
    `  depot requests ${requests - notModified}, image bytes served ${firstServed} = ${firstServed / image.length} images (target 3: one per site), ${(t1 - t0).toFixed(0)} ms`,
  );
  console.log(
    `  a later deployment per site: ${notModified} x 304, ${served - firstServed} bytes served, ${(t2 - t1).toFixed(0)} ms`,
  );
  console.log(
    `  load average ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
} finally {
  rmSync(root, { recursive: true, force: true });
  depot.close();
}
