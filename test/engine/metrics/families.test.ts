import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fetchIntoCache } from '../../../src/engine/environments/fetch-url.js';
import { FileCache } from '../../../src/engine/environments/file-cache.js';
import { EngineMetrics } from '../../../src/engine/metrics/engine-metrics.js';
import { ImageMetrics } from '../../../src/engine/metrics/image-metrics.js';
import { operationOutcome } from '../../../src/engine/metrics/operation-metrics.js';
import { reasonClass } from '../../../src/engine/metrics/reason-class.js';
import { SshMetrics } from '../../../src/engine/metrics/ssh-metrics.js';
import { registerRestoreGauges } from '../../../src/engine/metrics/store-gauges.js';
import { RestoresRepo } from '../../../src/engine/oar-restore/restores-repo.js';
import { MemoryHostKeyStore, SshPool } from '../../../src/engine/ssh/index.js';
import { broadcastProgress } from '../../../src/engine/steps/broadcast-progress.js';
import { openStore } from '../../../src/engine/store/store.js';
import { fixture } from '../ssh/helpers/fixture.js';
import { generateKey } from '../ssh/helpers/test-ssh-server.js';

/** One series' value in a registry's text output (undefined when absent). */
async function value(registry: Registry, series: string): Promise<number | undefined> {
  const line = (await registry.metrics()).split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('reason classes: a closed set whatever the reason says', () => {
  it('classes the engine’s own reasons', () => {
    const cases: [string, string | undefined, string][] = [
      ['ok', undefined, 'none'],
      ['breakpoint', undefined, 'none'],
      ['cancelled', 'cancelled by alice', 'cancelled'],
      ['ko', 'aborted', 'cancelled'],
      ['ko', 'Timeout in the SetDeploymentEnvUntrusted step', 'timeout'],
      ['ko', 'not back after a very_hard reboot within 1s', 'timeout'],
      ['ko', 'SSH connection lost', 'ssh'],
      ['ko', 'host key mismatch', 'ssh'],
      ['ko', 'broadcast broken upstream at node-4.site', 'broadcast'],
      ['ko', 'engine could not send the image: ECONNRESET', 'broadcast'],
      ['ko', 'tar exited with code 2: tar: short read', 'command'],
      ['ko', 'very_hard_reboot command is not provided', 'config'],
      ['ko', undefined, 'other'],
      ['ko', `${'x'.repeat(10_000)}\u0000<script>`, 'other'],
    ];
    expect(cases.map(([s, r]) => reasonClass(s, r))).toEqual(cases.map(([, , c]) => c));
  });

  it('an operation’s outcome from its nodes', () => {
    expect(operationOutcome(['ok', 'ok'], false, false)).toBe('ok');
    expect(operationOutcome(['ok', 'breakpoint'], false, false)).toBe('ok');
    expect(operationOutcome(['ok', 'ko'], false, false)).toBe('partial');
    expect(operationOutcome(['ko', 'ko'], false, false)).toBe('ko');
    expect(operationOutcome(['ok', 'cancelled'], false, true)).toBe('cancelled');
    expect(operationOutcome(['ok', 'ok'], false, true)).toBe('ok');
    expect(operationOutcome(['ok'], true, false)).toBe('failed');
  });
});

describe('image cache metrics', () => {
  let server: Server | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    server = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a download is a miss and its bytes, a 304 a revalidated hit, a known checksum a hit with no request', async () => {
    const body = Buffer.alloc(300_000, 7);
    let requests = 0;
    server = createServer((req, res) => {
      requests++;
      if (req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304).end();
        return;
      }
      res.writeHead(200, { etag: '"v1"', 'content-length': body.length }).end(body);
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/img.tgz`;
    dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-metrics-cache-'));
    const cache = new FileCache(dir);
    const registry = new Registry();
    cache.metrics = new ImageMetrics(registry);

    const { md5 } = await fetchIntoCache(cache, url);
    expect(await value(registry, 'kaploy_image_cache_misses_total')).toBe(1);
    expect(await value(registry, 'kaploy_image_download_bytes_total')).toBe(body.length);
    await fetchIntoCache(cache, url);
    expect(await value(registry, 'kaploy_image_cache_hits_total{how="revalidated"}')).toBe(1);
    await fetchIntoCache(cache, url, { expectedMd5: md5 });
    expect(await value(registry, 'kaploy_image_cache_hits_total{how="checksum"}')).toBe(1);
    expect(requests).toBe(2);
    // Two callers at once share one download: two misses, the bytes counted once.
    const url2 = `${url}?v=2`;
    await Promise.all([fetchIntoCache(cache, `${url2}`), fetchIntoCache(cache, `${url2}`)]);
    expect(await value(registry, 'kaploy_image_cache_misses_total')).toBe(3);
    expect(await value(registry, 'kaploy_image_download_bytes_total')).toBe(2 * body.length);
  });
});

describe('OAR restore gauges', () => {
  it('pending, running and failed rows, and the age of the oldest not done, at scrape time', async () => {
    const store = openStore(':memory:');
    try {
      const repo = new RestoresRepo(store.db);
      let now = 1_000_000;
      const registry = new Registry();
      registerRestoreGauges(registry, store.db, () => now);
      expect(await value(registry, 'kaploy_oar_restores{state="pending"}')).toBe(0);
      expect(await value(registry, 'kaploy_oar_restore_oldest_age_seconds')).toBe(0);
      repo.record({ job: 7, user: 'alice', nodes: ['n-1', 'n-2', 'n-3'], production: 'prod:1' }, now);
      now += 60_000;
      repo.record({ job: 8, user: 'bob', nodes: ['n-4'], production: 'prod:1' }, now);
      expect(repo.claim(7, 'n-1', now)).toBe(true);
      expect(repo.claim(7, 'n-2', now)).toBe(true);
      repo.finish(7, 'n-2', 'failed', 'not back', now);
      now += 30_000;
      expect(await value(registry, 'kaploy_oar_restores{state="pending"}')).toBe(2);
      expect(await value(registry, 'kaploy_oar_restores{state="running"}')).toBe(1);
      expect(await value(registry, 'kaploy_oar_restores{state="failed"}')).toBe(1);
      expect(await value(registry, 'kaploy_oar_restore_oldest_age_seconds')).toBe(90);
      expect(repo.claim(7, 'n-3', now)).toBe(true);
      repo.finish(7, 'n-1', 'done', '', now);
      repo.finish(7, 'n-3', 'done', '', now);
      expect(await value(registry, 'kaploy_oar_restores{state="pending"}')).toBe(1);
      expect(await value(registry, 'kaploy_oar_restore_oldest_age_seconds')).toBe(30);
    } finally {
      store.close();
    }
  });
});

describe('SSH connection metrics', () => {
  it('counts connections opened and closed, and failed connects by kind', async () => {
    const registry = new Registry();
    const metrics = new SshMetrics(registry);
    const f = await fixture({ observer: metrics });
    try {
      await f.pool.exec(f.target, 'echo one');
      await f.pool.exec(f.target, 'echo two');
      expect(await value(registry, 'kaploy_ssh_connections_open')).toBe(1);
      f.pool.forget(f.target.node);
      // The close is asynchronous (the connection's close event).
      for (let i = 0; i < 200 && (await value(registry, 'kaploy_ssh_connections_open')) !== 0; i++)
        await new Promise((r) => setTimeout(r, 10));
      expect(await value(registry, 'kaploy_ssh_connections_open')).toBe(0);
    } finally {
      await f.close();
    }
    // Nothing listens on port 1: refused.
    const pool = new SshPool({
      privateKey: generateKey().privateKey,
      hostKeys: new MemoryHostKeyStore(),
      observer: metrics,
    });
    await expect(
      pool.exec({ node: 'n-9', host: '127.0.0.1', port: 1, username: 'root' }, 'true'),
    ).rejects.toMatchObject({ kind: 'connect_refused' });
    expect(await value(registry, 'kaploy_ssh_connections_failed_total{kind="connect_refused"}')).toBe(1);
  });
});

describe('a burst of scrapes', () => {
  it('concurrent scrapes share one rendering; the next one renders again', async () => {
    const m = new EngineMetrics();
    let renders = 0;
    const render = m.registry.metrics.bind(m.registry);
    m.registry.metrics = () => {
      renders++;
      return render();
    };
    const texts = await Promise.all(Array.from({ length: 50 }, () => m.text()));
    expect(renders).toBe(1);
    expect(new Set(texts).size).toBe(1);
    expect(texts[0]).toContain('# TYPE kaploy_operations_started_total counter');
    await m.text();
    expect(renders).toBe(2);
  });
});

describe('broadcast progress', () => {
  it('counts every byte sent, a line every ~2 s and one at the end with the image size', () => {
    vi.useFakeTimers({ now: 0 });
    try {
      const lines: string[] = [];
      let counted = 0;
      const p = broadcastProgress('chain', 4_000_000, {
        note: (l) => lines.push(l),
        count: (b) => {
          counted += b;
        },
      });
      for (let i = 0; i < 40; i++) {
        vi.advanceTimersByTime(250);
        p.sent(100_000);
      }
      p.end();
      expect(counted).toBe(4_000_000);
      // 10 s of sending: a line at 2, 4, 6, 8 s (and 10 s), then the end.
      expect(lines.length).toBeGreaterThanOrEqual(5);
      expect(lines[0]).toBe('Broadcast (chain): 800.0 KB sent, 400.0 KB/s');
      expect(lines.at(-1)).toBe('Broadcast (chain): 4.0 MB sent, 400.0 KB/s (image 4.0 MB)');
    } finally {
      vi.useRealTimers();
    }
  });
});
