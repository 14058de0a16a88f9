import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/logger.js';
import { kadeployApiUrl } from '../../../src/engine/kadeploy-api/listener.js';
import { type RunningServer, startEngine } from '../../../src/engine/main.js';
import { ADMIN, makeSite, type TestSite } from '../helpers/site.js';
import { type Answer, basic, call, refusal } from './helpers.js';

/**
 * Kadeploy 3.3's console resources driven as its kaconsole3 client drives them: POST /console,
 * then a raw TCP connection to the `console` URI the answer names (keystrokes in, the node's
 * console out, as with `nc HOST PORT`), GET /console/:id while it runs, DELETE to close. A real
 * engine; each node's console command is a small program that prints a banner naming the node and
 * echoes every line typed.
 */
const ECHO_CONSOLE = [
  "const node = process.argv[1] ?? '?';",
  'process.stdout.write("console of " + node + "\\r\\nlogin: ");',
  "const rl = require('node:readline').createInterface({ input: process.stdin });",
  'rl.on("line", (l) => { if (l === "exit") process.exit(0); process.stdout.write("echo: " + l + "\\r\\n"); });',
  "rl.on('close', () => process.exit(0));",
].join('\n');

let site: TestSite;
let server: RunningServer;
let base: string;
let alice: Record<string, string>;
let bob: Record<string, string>;
let admin: Record<string, string>;
const N1 = 'node-1.testsite';
const N2 = 'node-2.testsite';
const WID = /^C-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

beforeAll(async () => {
  site = makeSite({
    users: ['alice', 'bob'],
    nodes: 2,
    commands: { console: { argv: [process.execPath, '-e', ECHO_CONSOLE, '{node}'] } },
  });
  server = await startEngine(
    {
      ...site.config,
      kadeployApi: {
        enabled: true,
        host: '127.0.0.1',
        port: 0,
        prefix: '',
        trustedProxies: [],
        headerPrefix: 'X-Kadeploy-',
      },
    },
    { port: 0, host: '127.0.0.1', logger: silentLogger },
  );
  base = kadeployApiUrl(server.ctx) as string;
  alice = basic('alice', site.tokenFile('alice'));
  bob = basic('bob', site.tokenFile('bob'));
  admin = basic(ADMIN, site.tokenFile(ADMIN));
});

afterAll(async () => {
  await server?.close();
  site?.cleanup();
});

const bearer = (user: string) => ({
  authorization: `Bearer ${readFileSync(site.tokenFile(user), 'utf8').trim()}`,
});
const kerr = (a: Answer) => ({ status: a.status, ...refusal(a), body: a.text });
const nativeMessage = (a: Answer) => (a.json() as { error: { message: string } }).error.message;

/** A connection to a console channel, as kaconsole3 (or `nc`) makes it: bytes both ways. */
class Channel {
  readonly sock: net.Socket;
  #out = '';
  readonly ended: Promise<void>;
  error: NodeJS.ErrnoException | undefined;
  constructor(uri: string, from?: string) {
    const m = /^tcp:\/\/([^:]+):(\d+)$/.exec(uri);
    if (!m) throw new Error(`not a tcp:// URI: ${uri}`);
    this.sock = net.connect({
      host: m[1] as string,
      port: Number(m[2]),
      ...(from ? { localAddress: from } : {}),
    });
    this.sock.on('data', (d: Buffer) => {
      this.#out += d.toString('utf8');
    });
    this.sock.on('error', (e) => {
      this.error = e;
    });
    this.ended = new Promise((resolve) => this.sock.once('close', () => resolve()));
  }
  get output(): string {
    return this.#out;
  }
  async until(re: RegExp): Promise<string> {
    for (let i = 0; i < 200 && !re.test(this.#out); i++) await new Promise((r) => setTimeout(r, 50));
    expect(this.#out).toMatch(re);
    return this.#out;
  }
}

async function open(headers: Record<string, string>, node: string) {
  const r = await call(base, 'POST', '/console', { headers, body: { node } });
  expect(r.status).toBe(200);
  return r.json() as { wid: string; resources: { resource: string; error: string; console: string } };
}

/** Grants when not granted yet (code 14: nothing new). */
async function grant(user: string, node: string) {
  const r = await call(base, 'POST', '/rights', { headers: admin, body: { username: user, nodes: [node] } });
  expect([200, '14']).toContain(r.status === 200 ? 200 : refusal(r).code);
}

/** Polls GET /console/:wid until the console is seen closed (error: true). */
async function closedInfo(wid: string, headers: Record<string, string>) {
  for (let i = 0; i < 200; i++) {
    const r = await call(base, 'GET', `/console/${wid}`, { headers });
    expect(r.status).toBe(200);
    const info = r.json() as Record<string, unknown>;
    if (info.error === true) return info;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`${wid} never closed`);
}

describe('Kadeploy console resources', () => {
  it('a node the user has no right on: the native refusal (code 6, same message); nothing opened', async () => {
    // Kadeploy's own example sends the node in the query.
    const r = await call(base, 'POST', `/console?node=${N1}`, { headers: alice });
    const native = await call(server.url, 'POST', '/console', {
      headers: bearer('alice'),
      body: { node: N1 },
    });
    expect(native.status).toBe(403);
    expect(kerr(r)).toEqual({
      status: 400,
      code: '6',
      info: nativeMessage(native),
      body: nativeMessage(native),
    });
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect((await call(base, 'GET', '/console', { headers: alice })).json()).toEqual([]);
  });

  it('bad input: each kind refused with its code, nothing opened', async () => {
    await grant('alice', N1);
    const cases: [unknown, string, RegExp][] = [
      [{}, '12', /^node is missing$/],
      [{ node: 'node-1;reboot' }, '4', /^invalid request: body\/node must match pattern/],
      [{ node: ['a', 'b'] }, '4', /^invalid request: node must be a string/],
      [{ node: 'x'.repeat(300) }, '4', /^invalid request: node must be a string of at most 255/],
      [{ node: N1, nodes: [N1] }, '4', /^invalid request: unknown parameter 'nodes'$/],
      [{ node: 'node-9.testsite' }, '2', /^unknown node\(s\) on site testsite: node-9\.testsite$/],
    ];
    for (const [body, code, message] of cases) {
      const r = await call(base, 'POST', '/console', { headers: alice, body });
      expect([JSON.stringify(body), kerr(r).status, kerr(r).code]).toEqual([JSON.stringify(body), 400, code]);
      expect(kerr(r).info).toMatch(message);
    }
    const other = await call(base, 'POST', '/console', { headers: alice, body: { node: N1, user: 'bob' } });
    expect(kerr(other)).toMatchObject({
      status: 401,
      body: 'Authentication failed: user bob is not the authenticated user',
    });
    const wid = await call(base, 'GET', '/console/not-a-wid', { headers: alice });
    expect(kerr(wid)).toMatchObject({ status: 400, code: '1', info: 'no open console not-a-wid' });
    expect((await call(base, 'GET', '/console', { headers: alice })).json()).toEqual([]);
  });

  it('open, status, read and write through the channel, a second connection refused, DELETE closes', async () => {
    await grant('alice', N1);
    const opened = await open(alice, N1);
    const { wid } = opened;
    expect(wid).toMatch(WID);
    expect(opened).toEqual({
      wid,
      resources: {
        resource: `/console/${wid}`,
        error: `/console/${wid}/error`,
        console: expect.stringMatching(/^tcp:\/\/127\.0\.0\.1:\d+$/),
      },
    });
    const before = await call(base, 'GET', `/console/${wid}`, { headers: alice });
    expect(before.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(before.json()).toEqual({
      id: wid,
      user: 'alice',
      node: N1,
      error: false,
      attached: false,
      console_uri: opened.resources.console,
      time: expect.any(Number),
    });

    const ch = new Channel(opened.resources.console);
    // What the node printed before the client came is there first.
    await ch.until(/^console of node-1\.testsite\r\nlogin: $/);
    ch.sock.write('hello console\n');
    await ch.until(/echo: hello console\r\n$/);
    expect(
      ((await call(base, 'GET', `/console/${wid}`, { headers: alice })).json() as { attached: boolean })
        .attached,
    ).toBe(true);
    const list = (await call(base, 'GET', '/console', { headers: alice })).json() as Record<
      string,
      unknown
    >[];
    expect(list).toEqual([expect.objectContaining({ id: wid, node: N1, attached: true, error: false })]);
    expect((await call(base, 'GET', `/console/${wid}/error`, { headers: alice })).text).toBe('');

    // One keyboard: a second connection is told so and closed; the first one goes on.
    const second = new Channel(opened.resources.console);
    await second.ended;
    expect(second.output).toBe('[Kaconsole] console already attached\n');
    ch.sock.write('still here\n');
    await ch.until(/echo: still here\r\n$/);

    // One session per node, as in kaploy's own API: the native refusal (code 11).
    const busy = await call(base, 'POST', '/console', { headers: admin, body: { node: N1 } });
    const nativeBusy = await call(server.url, 'POST', '/console', {
      headers: bearer(ADMIN),
      body: { node: N1 },
    });
    expect(kerr(busy)).toMatchObject({ status: 400, code: '11', info: nativeMessage(nativeBusy) });

    const del = await call(base, 'DELETE', `/console/${wid}`, { headers: alice });
    expect([del.status, del.json()]).toEqual([200, { wid }]);
    await ch.ended;
    expect(ch.output).toMatch(/\[kaploy console: closed: closed by alice\]\r\n$/);
    expect(kerr(await call(base, 'GET', `/console/${wid}`, { headers: alice }))).toMatchObject({
      status: 400,
      code: '1',
      info: `no open console ${wid}`,
    });
    // The channel no longer listens.
    const late = new Channel(opened.resources.console);
    await late.ended;
    expect([late.error?.code, late.output]).toEqual(['ECONNREFUSED', '']);
  });

  it("another user's console: unknown to them (code 1, the native refusal), unseen in their list", async () => {
    await grant('alice', N1);
    const { wid, resources } = await open(alice, N1);
    for (const method of ['GET', 'DELETE'] as const) {
      const r = await call(base, method, `/console/${wid}`, { headers: bob });
      const native = await call(server.url, 'DELETE', `/console/${wid}`, { headers: bearer('bob') });
      expect(native.status).toBe(404);
      expect(kerr(r)).toEqual({
        status: 400,
        code: '1',
        info: nativeMessage(native),
        body: nativeMessage(native),
      });
    }
    expect(kerr(await call(base, 'GET', `/console/${wid}/error`, { headers: bob }))).toMatchObject({
      code: '1',
    });
    expect((await call(base, 'GET', '/console', { headers: bob })).json()).toEqual([]);
    // An admin sees it, and it still runs.
    const seen = (await call(base, 'GET', `/console/${wid}`, { headers: admin })).json();
    expect(seen).toMatchObject({ id: wid, user: 'alice', error: false, console_uri: resources.console });
    expect((await call(base, 'DELETE', `/console/${wid}`, { headers: alice })).json()).toEqual({ wid });
  });

  it('the channel admits only the address that opened the console', async () => {
    await grant('alice', N2);
    const { wid, resources } = await open(alice, N2);
    const stranger = new Channel(resources.console, '127.0.0.2');
    await stranger.ended;
    expect(stranger.output).toBe(
      '[Kaconsole] connection refused: not the address that opened this console\n',
    );
    expect((await call(base, 'GET', `/console/${wid}`, { headers: alice })).json()).toMatchObject({
      attached: false,
      error: false,
    });
    const ch = new Channel(resources.console);
    await ch.until(/^console of node-2\.testsite/);
    expect((await call(base, 'DELETE', `/console/${wid}`, { headers: alice })).json()).toEqual({ wid });
    await ch.ended;
  });

  it('the client leaving closes the console: error true and the reason at /error, until DELETE', async () => {
    await grant('alice', N2);
    const { wid, resources } = await open(alice, N2);
    const ch = new Channel(resources.console);
    await ch.until(/login: $/);
    ch.sock.end();
    await ch.ended;
    const info = await closedInfo(wid, alice);
    // Kadeploy shows attached and console_uri only while the channel lives.
    expect(info).toEqual({ id: wid, user: 'alice', node: N2, error: true, time: expect.any(Number) });
    const err = await call(base, 'GET', `/console/${wid}/error`, { headers: alice });
    expect([err.status, err.headers['content-type'], err.text]).toEqual([
      200,
      'text/plain; charset=utf-8',
      'the client left',
    ]);
    expect((await call(base, 'GET', '/console', { headers: alice })).json()).toEqual([info]);
    expect((await call(base, 'DELETE', `/console/${wid}`, { headers: alice })).json()).toEqual({ wid });
    expect((await call(base, 'GET', '/console', { headers: alice })).json()).toEqual([]);
  });

  it('the console command ending, and rights revoked, close the channel with their reason', async () => {
    await grant('alice', N1);
    const first = await open(alice, N1);
    const ch = new Channel(first.resources.console);
    await ch.until(/login: $/);
    ch.sock.write('exit\n');
    await ch.ended;
    await closedInfo(first.wid, alice);
    expect((await call(base, 'GET', `/console/${first.wid}/error`, { headers: alice })).text).toBe(
      'console command ended',
    );

    const second = await open(alice, N1);
    const ch2 = new Channel(second.resources.console);
    await ch2.until(/login: $/);
    expect((await call(base, 'DELETE', `/rights/alice/${N1}`, { headers: admin })).status).toBe(200);
    await ch2.ended;
    expect(ch2.output).toMatch(/\[kaploy console: closed: rights revoked\]\r\n$/);
    await closedInfo(second.wid, alice);
    expect((await call(base, 'GET', `/console/${second.wid}/error`, { headers: alice })).text).toBe(
      'rights revoked',
    );
  });

  it("a console opened with kaploy's own API is listed, readable and closable here (no channel)", async () => {
    await grant('alice', N2);
    const native = await call(server.url, 'POST', '/console', {
      headers: bearer('alice'),
      body: { node: N2 },
    });
    expect(native.status).toBe(201);
    const { wid } = native.json() as { wid: string };
    const info = (await call(base, 'GET', `/console/${wid}`, { headers: alice })).json();
    expect(info).toEqual({
      id: wid,
      user: 'alice',
      node: N2,
      error: false,
      attached: false,
      time: expect.any(Number),
    });
    const list = (await call(base, 'GET', '/console', { headers: alice })).json() as {
      id: string;
      time: number;
    }[];
    // `time` is the console's age, so it may have grown between the two reads.
    const listed = list.filter((c) => c.id === wid);
    expect(listed).toEqual([{ ...(info as object), time: expect.any(Number) }]);
    expect(listed[0]!.time).toBeGreaterThanOrEqual((info as { time: number }).time);
    expect((await call(base, 'DELETE', `/console/${wid}`, { headers: alice })).json()).toEqual({ wid });
    expect(kerr(await call(base, 'GET', `/console/${wid}`, { headers: alice }))).toMatchObject({ code: '1' });
  });
});
