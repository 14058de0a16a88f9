import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogPage, OperationStatus } from '../../../src/api/operation-status.js';
import { silentLogger } from '../../../src/common/logger.js';
import { type RunningEngine, startEngine } from '../../../src/engine/main.js';
import { run } from '../helpers/run.js';
import { ADMIN, makeSite, type TestSite } from '../helpers/site.js';

/**
 * An image served slowly: the deployment's id comes back while the download runs, and its
 * progress is in the log as it happens, for a follower of the log (kadeploy3) and of the
 * dashboard's event stream alike. A download that fails after that ends the operation failed with
 * the refusal's code, no node touched; a cancel stops it.
 */
let site: TestSite;
let engine: RunningEngine;
let depot: Server;
let depotUrl: string;
const NODE = 'node-1.testsite';
const SIZE = 2_000_000;
const PIECES = 10;
/** When each trickled body's last byte was written, by path. */
const lastByte = new Map<string, number>();
const open = new Set<ServerResponse>();
/** Requests per path. */
const seen = new Map<string, number>();

beforeAll(async () => {
  site = makeSite({ users: [], nodes: 1 });
  engine = await startEngine(site.config, { port: 0, host: '127.0.0.1', logger: silentLogger });
  // A depot that trickles: 10 pieces 400 ms apart, the size announced. /cut.tgz stops at 60 %.
  depot = createServer((req, res) => {
    open.add(res);
    res.on('close', () => open.delete(res));
    res.writeHead(200, { 'content-length': SIZE });
    // /changed.tgz: another content from its second request on (a depot file rebuilt).
    const asked = (seen.get(req.url ?? '') ?? 0) + 1;
    seen.set(req.url ?? '', asked);
    const piece = Buffer.alloc(SIZE / PIECES, req.url === '/changed.tgz' && asked > 1 ? 8 : 7);
    let sent = 0;
    const next = () => {
      if (res.destroyed) return;
      if (req.url === '/cut.tgz' && sent === 6) return void res.destroy();
      if (sent === PIECES) return void res.end();
      res.write(piece);
      sent++;
      if (sent === PIECES) lastByte.set(req.url ?? '', Date.now());
      setTimeout(next, 400);
    };
    next();
  });
  await new Promise<void>((r) => depot.listen(0, '127.0.0.1', r));
  depotUrl = `http://127.0.0.1:${(depot.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await engine?.close();
  for (const r of open) r.destroy();
  await new Promise((r) => depot?.close(r));
  site?.cleanup();
});

const token = () => readFileSync(site.tokenFile(ADMIN), 'utf8').trim();
const anonymous = (file: string) => ({
  kind: 'anonymous' as const,
  description: `name: web\nos: linux\nimage: {file: '${depotUrl}/${file}', kind: tar, compression: gzip}\nboot: {kernel: /vmlinuz}\nfilesystem: ext4\n`,
  file: 'web.yaml',
  uploads: [],
});
const PROGRESS = /^Downloading http:\S+: [\d.]+ [KM]?B of 2\.0 MB \(\d+%\), [\d.]+ [KMG]?B\/s$/;

/** What a follower of the log (kadeploy3's long poll) received, each line with when it came. */
async function followLog(wid: string): Promise<{ line: string; at: number }[]> {
  const admin = site.client(ADMIN, engine.url);
  const got: { line: string; at: number }[] = [];
  try {
    for (let from = 0; ; ) {
      const page = await admin.request<LogPage>(
        'GET',
        `/deployment/${wid}/logs?from=${from}&verbosity=3&wait_ms=2000`,
      );
      const at = Date.now();
      for (const line of page.lines) got.push({ line, at });
      from = page.next;
      if (page.done) return got;
    }
  } finally {
    await admin.close();
  }
}

/** A dashboard session's cookie. */
async function uiCookie(): Promise<string> {
  const r = await fetch(`${engine.url}/ui/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ secret: token() }).toString(),
  });
  expect(r.status).toBe(303);
  return String(r.headers.get('set-cookie')).split(';')[0] as string;
}

/** The `log` events of the dashboard's stream of `wid`, each line with when it came, to its end. */
async function followEvents(wid: string, cookie: string): Promise<{ line: string; at: number }[]> {
  const r = await fetch(`${engine.url}/ui/operations/${wid}/events?from=0&verbosity=3`, {
    headers: { cookie },
  });
  expect(r.status).toBe(200);
  const got: { line: string; at: number }[] = [];
  let text = '';
  for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
    text += Buffer.from(chunk).toString('utf8');
    for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
      const msg = text.slice(0, end);
      text = text.slice(end + 2);
      const event = /^event: (\w+)$/m.exec(msg)?.[1];
      const data = /^data: (.*)$/m.exec(msg)?.[1];
      if (event === 'log' && data)
        for (const line of (JSON.parse(data) as { lines: string[] }).lines)
          got.push({ line, at: Date.now() });
    }
  }
  return got;
}

const statsRows = (wid: string) =>
  (engine.ctx.store.db.prepare('SELECT count(*) AS n FROM stats WHERE wid = ?').get(wid) as { n: number }).n;

describe('image download progress while the download runs', () => {
  it('the id comes back during the download; log and event stream show its progress before its last byte', async () => {
    const admin = site.client(ADMIN, engine.url);
    const cookie = await uiCookie();
    const { wid, discarded } = await admin.request<{ wid: string; discarded: string[] }>(
      'POST',
      '/deployment',
      {
        body: { nodes: [NODE], environment: anonymous('slow.tgz') },
      },
    );
    expect(discarded).toEqual([]);
    // Answered before the depot wrote its last byte: the deployment is preparing, its node untouched.
    expect(lastByte.has('/slow.tgz')).toBe(false);
    const st = await admin.request<OperationStatus>('GET', `/deployment/${wid}`);
    expect(st.status).toBe('preparing');
    expect(st.nodes).toEqual({ [NODE]: { state: 'waiting' } });
    expect(engine.ctx.store.nodes.get(NODE)?.state).toBe('prod_env');
    const listed = await admin.request<OperationStatus[]>('GET', '/deployment');
    expect(listed.map((o) => [o.wid, o.status])).toContainEqual([wid, 'preparing']);

    const [log, events] = await Promise.all([followLog(wid), followEvents(wid, cookie)]);
    await engine.services.operations.idle();
    const end = lastByte.get('/slow.tgz') as number;
    expect(end).toBeGreaterThan(0);
    for (const got of [log, events]) {
      expect(got[0]?.line).toBe(`Deployment #${wid} started`);
      const moving = got.filter((g) => PROGRESS.test(g.line));
      // At least two progress lines reached the follower before the server sent its last byte.
      expect(moving.filter((g) => g.at < end).length).toBeGreaterThanOrEqual(2);
      const done = got.findIndex((g) => g.line.startsWith('Downloaded '));
      expect(got[done]?.line).toMatch(/^Downloaded http:\S+\/slow\.tgz: 2\.0 MB, [\d.]+ [KMG]?B\/s$/);
      // Bounded: at most one line per 10 % (or per second), never one per chunk.
      expect(moving.length).toBeLessThanOrEqual(PIECES + 1);
      // The deployment itself after the download: the node does not exist, it ends KO.
      expect(got.at(-1)?.line).toBe(`Deployment #${wid} done (0/1 nodes OK)`);
    }
    const final = await admin.request<OperationStatus>('GET', `/deployment/${wid}`);
    expect(final.status).toBe('done');
    expect(final.outcomes?.map((o) => [o.node, o.status])).toEqual([[NODE, 'ko']]);
    expect(statsRows(wid)).toBeGreaterThan(0);
    await admin.close();
  });

  it('kadeploy3 -a prints the progress lines while the download runs, then the end', async () => {
    const desc = path.join(site.dir, 'slow-cli.yaml');
    writeFileSync(desc, anonymous('slow-cli.tgz').description);
    const env = Object.fromEntries(
      Object.entries(site.envFor(ADMIN, engine.url)).filter(([, v]) => v !== undefined),
    ) as NodeJS.ProcessEnv;
    const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dist/cli/kadeploy3.js');
    const p = spawn(process.execPath, [cli, '-a', desc, '-m', NODE], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const got: { line: string; at: number }[] = [];
    let text = '';
    p.stdout.on('data', (d) => {
      text += d;
      const parts = text.split('\n');
      text = parts.pop() ?? '';
      for (const line of parts) got.push({ line, at: Date.now() });
    });
    const code = await new Promise<number | null>((r) => p.on('exit', r));
    const end = lastByte.get('/slow-cli.tgz') as number;
    expect(end).toBeGreaterThan(0);
    // What the user reads on the terminal: the lines come while the depot still sends.
    const moving = got.filter((g) => PROGRESS.test(g.line.trim()));
    expect(moving.filter((g) => g.at < end).length).toBeGreaterThanOrEqual(2);
    expect(got.some((g) => /^Downloaded http:\S+\/slow-cli\.tgz: 2\.0 MB/.test(g.line.trim()))).toBe(true);
    // The node does not exist on this site: the deployment ran and ended KO.
    expect(code).toBe(2);
    await engine.services.operations.idle();
  });

  it('a download that fails once the id was given: the deployment fails with KAPLOY_FILE, no node touched', async () => {
    const admin = site.client(ADMIN, engine.url);
    const before = engine.ctx.store.nodes.get(NODE);
    const { wid } = await admin.request<{ wid: string }>('POST', '/deployment', {
      body: { nodes: [NODE], environment: anonymous('cut.tgz') },
    });
    const log = await followLog(wid);
    await engine.services.operations.idle();
    const st = await admin.request<OperationStatus>('GET', `/deployment/${wid}`);
    expect(st.status).toBe('failed');
    expect(st.error?.code).toBe('KAPLOY_FILE');
    expect(st.error?.message).toContain(`${depotUrl}/cut.tgz`);
    expect(st.outcomes?.map((o) => [o.node, o.status])).toEqual([[NODE, 'ko']]);
    expect(log.some((g) => PROGRESS.test(g.line))).toBe(true);
    expect(log.at(-1)?.line).toBe(`Deployment #${wid} done (0/1 nodes OK)`);
    expect(log.map((g) => g.line)).toContain(`Deployment #${wid} failed: ${st.error?.message}`);
    // Refused before any node was touched: its state and record as before, no statistics row.
    expect(engine.ctx.store.nodes.get(NODE)).toEqual(before);
    expect(statsRows(wid)).toBe(0);
    expect(engine.ctx.store.workflows.get(wid)?.status).toBe('failed');
    await admin.close();
  });

  it('a recorded image changed on its depot: refused with KAPLOY_CHECKSUM after the id was given, no node touched', async () => {
    const desc = path.join(site.dir, 'changed.yaml');
    writeFileSync(desc, anonymous('changed.tgz').description.replace('name: web', 'name: changed'));
    const env = Object.fromEntries(
      Object.entries(site.envFor(ADMIN, engine.url)).filter(([, v]) => v !== undefined),
    ) as NodeJS.ProcessEnv;
    // Recorded (its MD5 taken from the first download), then out of the cache.
    expect((await run('kaenv3', ['-a', desc], { env })).code).toBe(0);
    const e = engine.ctx.store.environments.find({ user: ADMIN, name: 'changed' }).at(-1);
    rmSync(engine.ctx.files.path(e?.image.md5 as string));
    const admin = site.client(ADMIN, engine.url);
    const before = engine.ctx.store.nodes.get(NODE);
    const { wid } = await admin.request<{ wid: string }>('POST', '/deployment', {
      body: { nodes: [NODE], environment: { kind: 'recorded', name: 'changed' } },
    });
    const log = await followLog(wid);
    await engine.services.operations.idle();
    const st = await admin.request<OperationStatus>('GET', `/deployment/${wid}`);
    expect(st.status).toBe('failed');
    expect(st.error?.code).toBe('KAPLOY_CHECKSUM');
    expect(log.filter((g) => PROGRESS.test(g.line)).length).toBeGreaterThanOrEqual(2);
    expect(log.map((g) => g.line)).toContain(`Deployment #${wid} failed: ${st.error?.message}`);
    expect(engine.ctx.store.nodes.get(NODE)).toEqual(before);
    expect(statsRows(wid)).toBe(0);
    await admin.close();
  });

  it('a deployment cancelled while it downloads ends cancelled, the download stopped, no node touched', async () => {
    const admin = site.client(ADMIN, engine.url);
    const before = engine.ctx.store.nodes.get(NODE);
    const { wid } = await admin.request<{ wid: string }>('POST', '/deployment', {
      body: { nodes: [NODE], environment: anonymous('cancelled.tgz') },
    });
    expect(await admin.request('DELETE', `/deployment/${wid}`)).toEqual({ cancelled: wid });
    await engine.services.operations.idle();
    const st = await admin.request<OperationStatus>('GET', `/deployment/${wid}`);
    expect(st.status).toBe('cancelled');
    expect(st.outcomes?.map((o) => [o.node, o.status])).toEqual([[NODE, 'cancelled']]);
    expect(lastByte.has('/cancelled.tgz')).toBe(false);
    expect(engine.ctx.store.nodes.get(NODE)).toEqual(before);
    expect(statsRows(wid)).toBe(0);
    await admin.close();
  });
});
