import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/logger.js';
import type { DownloadProgress } from '../../src/engine/environments/download-progress.js';
import { fetchIntoCache } from '../../src/engine/environments/fetch-url.js';
import { DEFAULT_CACHE_LIMITS, FileCache } from '../../src/engine/environments/file-cache.js';
import { type RunningServer, startEngine } from '../../src/engine/main.js';
import { ADMIN, makeSite, type TestSite } from './helpers/site.js';

const md5 = (b: string | Buffer) => createHash('md5').update(b).digest('hex');

/**
 * Misbehaving image servers, each a small fake written for the code around it (raw TCP where
 * node:http would not misbehave): the engine's download must fail that one download with a
 * clear KAPLOY_FILE error and keep nothing, whatever the peer does.
 */
const servers: net.Server[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    (s as net.Server & { closeAllConnections?: () => void }).closeAllConnections?.();
    await new Promise((r) => s.close(r));
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function listen(s: net.Server): Promise<string> {
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as net.AddressInfo).port}`;
}

/** A raw TCP peer: `onRequest` gets the socket once a request head arrived. */
function raw(onRequest: (sock: net.Socket, head: string) => void): Promise<string> {
  const sockets = new Set<net.Socket>();
  const s = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    let head = '';
    sock.on('data', (d) => {
      if (head.includes('\r\n\r\n')) return;
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) onRequest(sock, head);
    });
  });
  (s as net.Server & { closeAllConnections: () => void }).closeAllConnections = () => {
    for (const k of sockets) k.destroy();
  };
  return listen(s);
}

function cache(limits: Partial<typeof DEFAULT_CACHE_LIMITS.download> = {}, maxBytes?: number): FileCache {
  const d = mkdtempSync(path.join(os.tmpdir(), 'kaploy-peers-'));
  dirs.push(d);
  return new FileCache(d, {
    maxBytes: maxBytes ?? DEFAULT_CACHE_LIMITS.maxBytes,
    download: { ...DEFAULT_CACHE_LIMITS.download, ...limits },
  });
}

/** Nothing kept: no image, no partial file. */
const empty = (c: FileCache) => expect(readdirSync(c.dir)).toEqual([]);

describe('the engine survives any HTTP peer', () => {
  it('a body cut before its Content-Length', async () => {
    const url = await raw((sock) => {
      sock.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n');
      sock.end(Buffer.alloc(50));
    });
    const c = cache();
    await expect(fetchIntoCache(c, `${url}/cut.tgz`)).rejects.toMatchObject({
      code: 'KAPLOY_FILE',
      message: expect.stringMatching(
        /cut\.tgz: the connection closed after \d+ bytes, before the end of the body/,
      ),
    });
    empty(c);
  });

  it('more bytes than the Content-Length announced', async () => {
    const url = await raw((sock) => {
      sock.write('HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\n');
      sock.end(Buffer.alloc(5000));
    });
    const c = cache();
    // node:http reads exactly the announced bytes and ignores the rest: the content is the 10 bytes.
    expect(await fetchIntoCache(c, `${url}/long.tgz`)).toEqual({ md5: md5(Buffer.alloc(10)), size: 10 });
  });

  it('a close-delimited HTTP/1.0 body (no Content-Length) is read to the close', async () => {
    const body = Buffer.alloc(200_000, 1);
    const url = await raw((sock) => {
      sock.write('HTTP/1.0 200 OK\r\n\r\n');
      sock.end(body);
    });
    expect(await fetchIntoCache(cache(), `${url}/x.tgz`)).toEqual({ md5: md5(body), size: body.length });
  });

  it('a server announcing 1 TB then closing is refused up front, before a byte is written', async () => {
    const url = await raw((sock) => {
      sock.write('HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n');
      sock.end();
    });
    const c = cache({}, 1024 ** 3);
    await expect(fetchIntoCache(c, `${url}/tera.tgz`)).rejects.toMatchObject({
      code: 'KAPLOY_FILE',
      message: `'${url}/tera.tgz' announces 1000000000000 bytes, more than the ${1024 ** 3} bytes the site's image cache holds`,
    });
    empty(c);
    // Within the cache's bound but not the disk's free space: refused as well.
    const big = cache({}, Number.MAX_SAFE_INTEGER);
    const url2 = await raw((sock) => {
      sock.write('HTTP/1.1 200 OK\r\nContent-Length: 9000000000000000\r\n\r\n');
      sock.end();
    });
    await expect(fetchIntoCache(big, `${url2}/huge.tgz`)).rejects.toMatchObject({
      code: 'KAPLOY_FILE',
      message: expect.stringMatching(
        /announces 9000000000000000 bytes, more than the (\d+ bytes free on the engine's disk|\d+ bytes the site's image cache holds)/,
      ),
    });
  });

  it('an invalid Content-Length', async () => {
    const url = await raw((sock) => sock.end('HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n'));
    await expect(fetchIntoCache(cache(), `${url}/x.tgz`)).rejects.toMatchObject({ code: 'KAPLOY_FILE' });
  });

  it('a URL that never answers ends at the idle deadline', async () => {
    const url = await raw(() => {});
    const c = cache({ idleTimeoutMs: 300 });
    await expect(fetchIntoCache(c, `${url}/silent.tgz`)).rejects.toMatchObject({
      code: 'KAPLOY_FILE',
      message: `cannot download ${url}/silent.tgz: no data from the server for 0.3 s`,
    });
  });

  it('a slow-loris server (a byte now and then) ends at the download deadline', async () => {
    const timers: NodeJS.Timeout[] = [];
    const url = await raw((sock) => {
      sock.write('HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n');
      timers.push(setInterval(() => sock.writable && sock.write('x'), 50));
    });
    const c = cache({ idleTimeoutMs: 1000, timeoutMs: 600 });
    await expect(fetchIntoCache(c, `${url}/loris.tgz`)).rejects.toMatchObject({
      code: 'KAPLOY_FILE',
      message: `cannot download ${url}/loris.tgz: the download took longer than the site allows`,
    });
    for (const t of timers) clearInterval(t);
    empty(c);
  });

  it('redirects: bounded, to another host only when the site allows it', async () => {
    const target = await listen(http.createServer((_q, res) => res.end('moved image')));
    const port = new URL(target).port;
    const loop = await listen(
      http.createServer((q, res) => res.writeHead(302, { location: q.url === '/a' ? '/b' : '/a' }).end()),
    );
    await expect(fetchIntoCache(cache(), `${loop}/a`)).rejects.toMatchObject({
      message: `cannot download ${loop}/a: more than 5 redirects`,
    });
    // 127.0.0.1 -> localhost: another host name.
    const away = await listen(
      http.createServer((_q, res) => res.writeHead(301, { location: `http://localhost:${port}/img` }).end()),
    );
    await expect(fetchIntoCache(cache(), `${away}/img`)).rejects.toMatchObject({
      message: `cannot download ${away}/img: redirected to another host (localhost:${port}), which this site does not allow`,
    });
    expect(await fetchIntoCache(cache({ crossHostRedirects: true }), `${away}/img`)).toMatchObject({
      md5: md5('moved image'),
    });
    const same = await listen(
      http.createServer((_q, res) => res.writeHead(307, { location: `${target}/img` }).end()),
    );
    expect(await fetchIntoCache(cache(), `${same}/img`)).toMatchObject({ md5: md5('moved image') });
  });
});

describe('shared downloads', () => {
  it('one caller leaving does not stop the others; when all leave the download stops', async () => {
    let requests = 0;
    let release: (() => void) | undefined;
    const body = Buffer.alloc(100_000, 5);
    const url = await raw((sock) => {
      requests++;
      sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
      sock.write(body.subarray(0, 1000));
      release = () => sock.end(body.subarray(1000));
    });
    const c = cache();
    const leaving = new AbortController();
    const progress: DownloadProgress[] = [];
    const a = fetchIntoCache(c, `${url}/img`, { signal: leaving.signal });
    const b = fetchIntoCache(c, `${url}/img`, { onProgress: (p) => progress.push(p) });
    while (!release) await new Promise((r) => setTimeout(r, 5));
    leaving.abort(new Error('user pressed Ctrl-C'));
    await expect(a).rejects.toThrow('user pressed Ctrl-C');
    release();
    expect(await b).toEqual({ md5: md5(body), size: body.length });
    expect(requests).toBe(1);
    expect(progress.at(-1)).toMatchObject({ bytes: body.length, done: true });

    // Every caller gone: the connection is closed and nothing is kept.
    let closed = false;
    const url2 = await raw((sock) => {
      sock.write('HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n');
      sock.on('close', () => {
        closed = true;
      });
    });
    const c2 = cache();
    const x = new AbortController();
    const y = new AbortController();
    const p1 = fetchIntoCache(c2, `${url2}/img`, { signal: x.signal });
    const p2 = fetchIntoCache(c2, `${url2}/img`, { signal: y.signal });
    await new Promise((r) => setTimeout(r, 100));
    x.abort(new Error('gone'));
    y.abort(new Error('gone'));
    await expect(Promise.all([p1, p2])).rejects.toThrow('gone');
    for (let i = 0; i < 100 && !closed; i++) await new Promise((r) => setTimeout(r, 10));
    expect(closed).toBe(true);
    for (let i = 0; i < 100 && readdirSync(c2.dir).length > 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    empty(c2);
  });
});

describe('the engine as an image server', () => {
  let site: TestSite;
  let engine: RunningServer;
  beforeAll(async () => {
    site = makeSite({ users: ['alice'] });
    engine = await startEngine(site.config, { port: 0, logger: silentLogger });
  });
  afterAll(async () => {
    await engine?.close();
    site?.cleanup();
  });

  it('a URL or a redirect to the engine itself is refused (4xx), never followed', async () => {
    const port = new URL(engine.url).port;
    const self = `http://127.0.0.1:${port}/files/${md5('x')}`;
    await expect(fetchIntoCache(engine.ctx.files, self)).rejects.toMatchObject({
      message: `cannot download ${self}: 127.0.0.1:${port} is this engine itself`,
    });
    const hop = await listen(http.createServer((_q, res) => res.writeHead(302, { location: self }).end()));
    const admin = site.client(ADMIN, engine.url);
    const description = `name: w\nos: linux\nimage: {file: '${hop}/img.tgz', kind: tar, compression: gzip}\nboot: {kernel: /vmlinuz}\nfilesystem: ext4\n`;
    await expect(
      admin.request('POST', '/deployment', {
        body: {
          nodes: ['node-1.testsite'],
          environment: { kind: 'anonymous', description, file: 'w.yaml', uploads: [] },
        },
      }),
    ).rejects.toMatchObject({
      code: 'KAPLOY_FILE',
      message: expect.stringContaining('is this engine itself'),
    });
    // A 1 TB announcement through the API: a refusal with its code, not an HTTP 500.
    const tera = await raw((sock) => {
      sock.write('HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n');
      sock.end();
    });
    await expect(
      admin.request('POST', '/deployment', {
        body: {
          nodes: ['node-1.testsite'],
          environment: {
            kind: 'anonymous',
            description: description.replace(`${hop}/img.tgz`, `${tera}/tera.tgz`),
            file: 'w.yaml',
            uploads: [],
          },
        },
      }),
    ).rejects.toMatchObject({
      code: 'KAPLOY_FILE',
      message: expect.stringContaining('announces 1000000000000 bytes'),
    });
    expect(await admin.request('GET', '/deployment')).toEqual([]);
    await admin.close();
  });
});
