import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/logger.js';
import { type RunningEngine, startEngine } from '../../../src/engine/main.js';
import { ADMIN, makeSite, type TestSite } from '../helpers/site.js';

/**
 * An image downloaded for a deployment: its bytes and rate are in the deployment's own log (what
 * kadeploy3 prints), and the download in the engine's metrics.
 */
let site: TestSite;
let engine: RunningEngine;
let depot: Server;
let depotUrl: string;
const image = Buffer.alloc(3_000_000, 5);

beforeAll(async () => {
  site = makeSite({ users: [], nodes: 1 });
  engine = await startEngine(site.config, { port: 0, host: '127.0.0.1', logger: silentLogger });
  depot = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': image.length });
    // In pieces, so the download lasts long enough to be seen moving.
    let at = 0;
    const next = () => {
      if (at >= image.length) return void res.end();
      res.write(image.subarray(at, at + 300_000));
      at += 300_000;
      setTimeout(next, 20);
    };
    next();
  });
  await new Promise<void>((r) => depot.listen(0, '127.0.0.1', r));
  depotUrl = `http://127.0.0.1:${(depot.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await engine?.close();
  await new Promise((r) => depot?.close(r));
  site?.cleanup();
});

describe('an image download in the deployment log and the metrics', () => {
  it('the log starts with the download’s bytes and rate; one miss, its bytes counted', async () => {
    const admin = site.client(ADMIN, engine.url);
    const { wid } = await admin.request<{ wid: string }>('POST', '/deployment', {
      body: {
        nodes: ['node-1.testsite'],
        environment: {
          kind: 'anonymous',
          description: `name: web\nos: linux\nimage: {file: '${depotUrl}/web.tgz', kind: tar, compression: gzip}\nboot: {kernel: /vmlinuz}\nfilesystem: ext4\n`,
          file: 'web.yaml',
          uploads: [],
        },
      },
    });
    // The node does not exist: the deployment ends KO; what matters is its log's first lines.
    await engine.services.operations.idle();
    const log = await admin.request<{ lines: string[] }>('GET', `/deployment/${wid}/logs?from=0&verbosity=3`);
    const at = log.lines.findIndex((l) => l.startsWith('Downloaded '));
    expect(log.lines[0]).toBe(`Deployment #${wid} started`);
    expect(log.lines[at]).toMatch(
      new RegExp(`^Downloaded ${depotUrl}/web\\.tgz: 3\\.0 MB, [\\d.]+ [KMG]?B/s$`.replace(/\//g, '\\/')),
    );
    // Before it, the download moving: bytes of the announced size, the percentage, the rate.
    expect(log.lines.slice(1, at).length).toBeGreaterThan(0);
    for (const l of log.lines.slice(1, at))
      expect(l).toMatch(/^Downloading http:\S+: [\d.]+ [KM]?B of 3\.0 MB \(\d+%\), [\d.]+ [KMG]?B\/s$/);
    const text = await (
      await fetch(`${engine.url}/metrics`, {
        headers: {
          authorization: `Bearer ${readFileSync(site.tokenFile(ADMIN), 'utf8').trim()}`,
        },
      })
    ).text();
    expect(text).toContain('kaploy_image_cache_misses_total 1\n');
    expect(text).toContain(`kaploy_image_download_bytes_total ${image.length}\n`);
    expect(text).toContain('kaploy_operations_ended_total{kind="deploy",outcome="ko"} 1\n');
    await admin.close();
  });
});
