import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/logger.js';
import { fetchIntoCache } from '../../src/engine/environments/fetch-url.js';
import { type RunningServer, startEngine } from '../../src/engine/main.js';
import { freePort, startNginx, type WebDepot } from './helpers/nginx.js';
import { ADMIN, makeSite, type TestSite } from './helpers/site.js';

const md5 = (b: string | Buffer) => createHash('md5').update(b).digest('hex');

let site: TestSite;
let server: RunningServer;
let depot: WebDepot;

beforeAll(async () => {
  site = makeSite({ users: ['alice'] });
  server = await startEngine(site.config, { port: 0, logger: silentLogger });
  depot = await startNginx('alice');
});

afterAll(async () => {
  await server?.close();
  await depot?.stop();
  site?.cleanup();
});

/** An anonymous deployment's description (kadeploy3 -a), its image at `url`. */
const anonymous = (url: string) => ({
  kind: 'anonymous' as const,
  description: `name: web\nos: linux\nimage: {file: '${url}', kind: tar, compression: gzip}\nboot: {kernel: /vmlinuz}\nfilesystem: ext4\n`,
  file: 'web.yaml',
  uploads: [],
});

/** nginx writes an access line when a request ends: wait for `n` of them for `p`. */
async function gets(p: string, n: number) {
  for (let i = 0; i < 200; i++) {
    const got = depot.requests().filter((r) => r.path === p);
    if (got.length >= n) return got;
    await new Promise((r) => setTimeout(r, 10));
  }
  return depot.requests().filter((r) => r.path === p);
}

describe('image downloads from a real web server (nginx)', () => {
  it('downloads an image once for three concurrent deployments, then revalidates it (304) without an md5', async () => {
    const image = Buffer.alloc(8 * 1024 * 1024, 7);
    writeFileSync(path.join(depot.publicHtml, 'big.tgz'), image);
    const url = `${depot.url}/big.tgz`;
    const admin = site.client(ADMIN, server.url);
    // Three deployments of the same URL at once (dry runs: every check, the download, no node touched).
    const answers = await Promise.all(
      [1, 2, 3].map((i) =>
        admin.request('POST', '/deployment?dry_run=true', {
          body: { nodes: [`node-${i}.testsite`], environment: anonymous(url) },
        }),
      ),
    );
    expect(answers.map((a) => (a as { environment: string }).environment)).toEqual([
      'web:1',
      'web:1',
      'web:1',
    ]);
    const first = await gets('/~alice/big.tgz', 1);
    expect(first).toEqual([{ method: 'GET', path: '/~alice/big.tgz', status: 200, bytes: image.length }]);
    expect(server.ctx.files.has(md5(image))).toBe(true);

    // A later deployment asks "changed since?" and reuses the cached file.
    await admin.request('POST', '/deployment?dry_run=true', {
      body: { nodes: ['node-4.testsite'], environment: anonymous(url) },
    });
    const later = await gets('/~alice/big.tgz', 2);
    expect(later.map((r) => [r.status, r.bytes])).toEqual([
      [200, image.length],
      [304, 0],
    ]);

    // Changed on the depot: downloaded again, and the new content is what the deployment uses.
    const v2 = Buffer.alloc(1024, 9);
    writeFileSync(path.join(depot.publicHtml, 'big.tgz'), v2);
    const r = await fetchIntoCache(server.ctx.files, url);
    expect(r).toEqual({ md5: md5(v2), size: v2.length });
    expect((await gets('/~alice/big.tgz', 3)).map((x) => x.status)).toEqual([200, 304, 200]);
    await admin.close();
  });

  it('a 404 or a checksum that does not match fails the deployment before any node is touched (4xx, clear reason)', async () => {
    const admin = site.client(ADMIN, server.url);
    await expect(
      admin.request('POST', '/deployment', {
        body: { nodes: ['node-1.testsite'], environment: anonymous(`${depot.url}/missing.tgz`) },
      }),
    ).rejects.toMatchObject({
      // A refusal with its code (an HTTP 500 reaches the client as KAPLOY_INTERNAL).
      code: 'KAPLOY_FILE',
      message: expect.stringContaining(`cannot download ${depot.url}/missing.tgz: HTTP 404`),
    });
    writeFileSync(path.join(depot.publicHtml, 'pinned.tgz'), 'the real one');
    await expect(
      fetchIntoCache(server.ctx.files, `${depot.url}/pinned.tgz`, { expectedMd5: md5('another one') }),
    ).rejects.toMatchObject({ code: 'KAPLOY_CHECKSUM' });
    expect(server.ctx.files.has(md5('the real one'))).toBe(false);
    expect(server.ctx.store.nodes.get('node-1.testsite')?.state).toBe('prod_env');
    await admin.close();
  });
});

describe("an HTTP/1.0 server that closes after the body (Python's http.server)", () => {
  let py: ChildProcess | undefined;
  afterAll(() => {
    py?.kill('SIGTERM');
  });

  it('downloads the image whole and the engine keeps serving', async () => {
    const body = Buffer.alloc(3 * 1024 * 1024 + 17, 3);
    writeFileSync(path.join(depot.publicHtml, 'py.tgz'), body);
    const port = await freePort();
    py = spawn(
      'python3',
      ['-m', 'http.server', '--bind', '127.0.0.1', '--directory', depot.publicHtml, String(port)],
      {
        stdio: 'ignore',
      },
    );
    const url = `http://127.0.0.1:${port}/py.tgz`;
    let r: { md5: string; size: number } | undefined;
    for (let i = 0; i < 100 && !r; i++) {
      r = await fetchIntoCache(server.ctx.files, url).catch(async () => {
        await new Promise((res) => setTimeout(res, 50));
        return undefined;
      });
    }
    expect(r).toEqual({ md5: md5(body), size: body.length });
    // Through the engine's API too: three at once, then the engine still answers.
    const admin = site.client(ADMIN, server.url);
    await Promise.all(
      [1, 2, 3].map((i) =>
        admin.request('POST', '/deployment?dry_run=true', {
          body: { nodes: [`node-${i}.testsite`], environment: anonymous(url) },
        }),
      ),
    );
    expect(await admin.request('GET', `/files/${md5(body)}`)).toMatchObject({ md5: md5(body) });
    await admin.close();
  });
});
