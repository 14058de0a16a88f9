import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/logger.js';
import { kadeployApiUrl } from '../../../src/engine/kadeploy-api/listener.js';
import { type RunningServer, startEngine } from '../../../src/engine/main.js';
import { ADMIN, makeSite, type TestSite, writeFile } from '../helpers/site.js';
import { type Answer, basic, call, refusal } from './helpers.js';

/**
 * The Kadeploy-compatible listener driven the way Kadeploy 3.3's clients and g5k-api drive it:
 * real HTTP to its own port, a real engine (startEngine) on a temporary site. The trusted proxy is
 * 127.0.0.2 (requests are sent from that source address); anything else sending the identity
 * header is refused. The site's nodes do not answer: deployments end with every node KO, for real.
 */
let site: TestSite;
let server: RunningServer;
let base: string;
let alice: Record<string, string>;
let admin: Record<string, string>;
const N1 = 'node-1.testsite';
const N2 = 'node-2.testsite';
const PROXY = '127.0.0.2';
const IMAGE = 'an image\n';
const KEYS = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample alice@frontend\n';
/** A Kadeploy client's file export: files at /Base64(path) (client/Base64url(path)). */
let exportServer: http.Server;
let exportUrl: string;
const exported = new Map<string, string>();

beforeAll(async () => {
  site = makeSite({ users: ['alice', 'bob'], nodes: 2 });
  writeFile(site.imageDir, 'img.tgz', IMAGE);
  server = await startEngine(
    {
      ...site.config,
      kadeployApi: {
        enabled: true,
        host: '127.0.0.1',
        port: 0,
        prefix: '',
        trustedProxies: [PROXY],
        headerPrefix: 'X-Kadeploy-',
      },
    },
    { port: 0, host: '127.0.0.1', logger: silentLogger },
  );
  base = kadeployApiUrl(server.ctx) as string;
  alice = basic('alice', site.tokenFile('alice'));
  admin = basic(ADMIN, site.tokenFile(ADMIN));
  exportServer = http.createServer((req, res) => {
    const file = Buffer.from(
      (req.url ?? '/').slice(1).replace(/-/g, '+').replace(/_/g, '/'),
      'base64',
    ).toString();
    const body = exported.get(file);
    res.writeHead(body === undefined ? 404 : 200).end(body);
  });
  await new Promise<void>((r) => exportServer.listen(0, '127.0.0.1', r));
  exportUrl = `http://127.0.0.1:${(exportServer.address() as AddressInfo).port}`;
});

afterAll(async () => {
  exportServer?.close();
  await server?.close();
  site?.cleanup();
});

const kerr = (a: Answer) => ({
  status: a.status,
  type: a.headers['content-type'],
  ...refusal(a),
  body: a.text,
});

const ENV = (name: string, version = 1) => ({
  name,
  version,
  description: 'a test environment',
  author: 'alice@example.org',
  visibility: 'private',
  destructive: false,
  os: 'linux',
  image: { file: `server://${site.imageDir}/img.tgz`, kind: 'tar', compression: 'gzip' },
  boot: { kernel: '/vmlinuz', initrd: '/initrd.img' },
  filesystem: 'ext4',
  partition_type: 83,
  multipart: false,
});

async function pollDone(path: string, headers: Record<string, string>): Promise<Record<string, unknown>> {
  for (let i = 0; i < 600; i++) {
    const r = await call(base, 'GET', path, { headers });
    expect(r.status).toBe(200);
    const w = r.json() as Record<string, unknown>;
    if (w.done === true) return w;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`${path} never done`);
}

describe('authentication', () => {
  it('GET /version and /auth_headers_prefix need no credentials (text/plain); trailing slashes accepted', async () => {
    const v = await call(base, 'GET', '/version');
    expect([v.status, v.headers['content-type'], v.text]).toEqual([
      200,
      'text/plain; charset=utf-8',
      expect.stringMatching(/^3\.3\.0\+kaploy\./),
    ]);
    const p = await call(base, 'GET', '/auth_headers_prefix/');
    expect([p.status, p.text]).toEqual([200, 'X-Kadeploy-']);
  });

  it('no credentials, a wrong secret, a secret of another user: 401, plain text', async () => {
    const none = await call(base, 'GET', '/nodes');
    expect(kerr(none)).toMatchObject({
      status: 401,
      code: undefined,
      body: expect.stringMatching(/^authentication required/),
    });
    expect(none.headers['www-authenticate']).toBe('Basic realm="kaploy", charset="UTF-8"');
    expect(none.headers['content-type']).toBe('text/plain; charset=utf-8');
    const wrong = await call(base, 'GET', '/nodes', {
      headers: { authorization: `Basic ${Buffer.from('alice:not-the-secret-at-all').toString('base64')}` },
    });
    expect(kerr(wrong)).toMatchObject({
      status: 401,
      body: expect.stringMatching(/unknown or revoked token/),
    });
    const other = await call(base, 'GET', '/nodes', {
      headers: {
        authorization: `Basic ${Buffer.from(`bob:${readFileSync(site.tokenFile('alice'), 'utf8').trim()}`).toString('base64')}`,
      },
    });
    expect(kerr(other)).toMatchObject({ status: 401, body: expect.stringMatching(/is not bob's/) });
  });

  it('Basic user:secret: 200 JSON', async () => {
    // GET /nodes?list: the names only (doc/api/nodes.api); without `list`, their status (below).
    const r = await call(base, 'GET', '/nodes/?list', { headers: alice });
    expect([r.status, r.headers['content-type'], r.json()]).toEqual([
      200,
      'application/json; charset=utf-8',
      [N1, N2],
    ]);
  });

  it('trusted proxy: X-Kadeploy-User believed from the configured address only', async () => {
    const ok = await call(base, 'GET', '/rights', { headers: { 'X-Kadeploy-User': 'alice' }, from: PROXY });
    expect([ok.status, ok.json()]).toEqual([200, {}]);
    const untrusted = await call(base, 'GET', '/rights', { headers: { 'X-Kadeploy-User': 'alice' } });
    expect(kerr(untrusted)).toMatchObject({
      status: 401,
      body: 'Authentication failed: trying to authenticate from an untrusted source',
    });
    const bad = await call(base, 'GET', '/rights', {
      headers: { 'X-Kadeploy-User': 'Not A User' },
      from: PROXY,
    });
    expect(bad.status).toBe(401);
  });

  it('an unknown resource is a plain 404', async () => {
    const r = await call(base, 'GET', '/nowhere', { headers: alice });
    expect([r.status, r.text]).toEqual([404, 'File not found: GET /nowhere']);
  });
});

describe('environments', () => {
  it('POST with the environment hash, GET with last/username/name/version, PUT, DELETE', async () => {
    for (const v of [1, 2]) {
      const add = await call(base, 'POST', '/environments', {
        headers: alice,
        body: { environment: ENV('kenv', v) },
      });
      expect(add.status).toBe(200);
      expect(add.json()).toMatchObject({
        name: 'kenv',
        version: v,
        user: 'alice',
        os: 'linux',
        visibility: 'private',
      });
    }
    const again = await call(base, 'POST', '/environments', {
      headers: alice,
      body: { environment: ENV('kenv', 2) },
    });
    expect(kerr(again)).toMatchObject({
      status: 400,
      code: '10',
      info: expect.stringMatching(/already exists/),
    });
    expect(again.text).toBe(refusal(again).info);

    const last = await call(base, 'GET', '/environments?last=true&username=alice&name=kenv', {
      headers: alice,
    });
    expect((last.json() as { version: number }[]).map((e) => e.version)).toEqual([2]);
    const all = await call(base, 'GET', '/environments?username=alice&name=kenv', { headers: alice });
    expect((all.json() as { version: number }[]).map((e) => e.version)).toEqual([1, 2]);
    const one = await call(base, 'GET', '/environments?username=alice&name=kenv&version=1', {
      headers: alice,
    });
    expect((one.json() as { version: number }[]).map((e) => e.version)).toEqual([1]);
    // bob does not see alice's private environments.
    const bob = await call(base, 'GET', '/environments?username=alice&name=kenv', {
      headers: basic('bob', site.tokenFile('bob')),
    });
    expect(bob.json()).toEqual([]);

    const put = await call(base, 'PUT', '/environments/alice/kenv/2', {
      headers: alice,
      body: { visibility: 'shared', toggle_destructive: true },
    });
    expect([
      put.status,
      (put.json() as Record<string, unknown>).visibility,
      (put.json() as Record<string, unknown>).destructive,
    ]).toEqual([200, 'shared', true]);
    // A non-admin cannot make an environment public: the native refusal, as Kadeploy's code 6.
    const pub = await call(base, 'PUT', '/environments/alice/kenv/2', {
      headers: alice,
      body: { visibility: 'public' },
    });
    expect(kerr(pub)).toMatchObject({ status: 400, code: '6' });

    const del = await call(base, 'DELETE', '/environments/alice/kenv/1', { headers: alice });
    expect([del.status, (del.json() as { version: number }[]).map((e) => e.version)]).toEqual([200, [1]]);
    const gone = await call(base, 'DELETE', '/environments/alice/kenv/1', { headers: alice });
    expect(kerr(gone)).toMatchObject({ status: 400, code: '7' });
  });

  it('a local image is fetched from the client export (client/Base64(path))', async () => {
    exported.set('/home/alice/local.tgz', 'local image bytes\n');
    const env = {
      ...ENV('klocal'),
      image: { file: '/home/alice/local.tgz', kind: 'tar', compression: 'gzip' },
    };
    const noClient = await call(base, 'POST', '/environments', {
      headers: alice,
      body: { environment: env },
    });
    expect(kerr(noClient)).toMatchObject({ status: 400, code: '5' });
    const r = await call(base, 'POST', '/environments', {
      headers: alice,
      body: { client: exportUrl, environment: env },
    });
    expect([r.status, (r.json() as { image: { file: string } }).image.file]).toEqual([
      200,
      '/home/alice/local.tgz',
    ]);
    const badClient = await call(base, 'POST', '/environments', {
      headers: alice,
      body: { client: 'ftp://x', environment: env },
    });
    expect(kerr(badClient)).toMatchObject({ status: 400, code: '3' });
  });

  it('YAML bodies are accepted (application/x-yaml)', async () => {
    const yaml = `environment:\n  name: kyaml\n  version: 1\n  os: linux\n  image:\n    file: server://${site.imageDir}/img.tgz\n    kind: tar\n    compression: gzip\n  boot:\n    kernel: /vmlinuz\n    initrd: /initrd.img\n  filesystem: ext4\n`;
    const r = await call(base, 'POST', '/environments/', { headers: alice, yaml });
    expect([r.status, (r.json() as { name: string }).name]).toEqual([200, 'kyaml']);
  });
});

describe('deployment', () => {
  it('refuses up front what kaploy cannot do, with Kadeploy codes, nothing started', async () => {
    const env = { kind: 'database', user: 'alice', name: 'kyaml' };
    const cases: [Record<string, unknown>, string][] = [
      [{ nodes: [N1], environment: env, custom_operations: { SetDeploymentEnv: {} } }, '8'],
      [{ nodes: [N1], environment: env, vlan: '3' }, '9'],
      [{ nodes: [N1], environment: env, hook: true }, '4'],
      [{ nodes: [N1], environment: env, colour: 'blue' }, '4'],
      [{ environment: env }, '2'],
      [{ nodes: [N1], environment: { kind: 'database', user: 'alice', name: 'missing' } }, '7'],
      [{ nodes: [N1], environment: env, deploy_partition: 'x' }, '4'],
    ];
    for (const [body, code] of cases) {
      const r = await call(base, 'POST', '/deployment', { headers: alice, body });
      expect([JSON.stringify(body), kerr(r).status, kerr(r).code]).toEqual([JSON.stringify(body), 400, code]);
    }
    expect((await call(base, 'GET', '/deployment', { headers: alice })).json()).toEqual([]);
  });

  it('without rights on the nodes: the native refusal (code 6, same message)', async () => {
    const body = { nodes: [N1], environment: { kind: 'database', user: 'alice', name: 'kyaml' } };
    const r = await call(base, 'POST', '/deployment', { headers: alice, body });
    const native = (
      await call(server.url, 'POST', '/deployment', {
        headers: bearer('alice'),
        body: { nodes: [N1], environment: { kind: 'recorded', user: 'alice', name: 'kyaml' } },
      })
    ).json();
    expect(kerr(r)).toMatchObject({ status: 400, code: '6' });
    expect(refusal(r).info).toBe((native as { error: { message: string } }).error.message);
  });

  it('start (200, resources), poll until done, state, logs consumed, DELETE forgets', async () => {
    const body = {
      nodes: [N1, N2],
      environment: { kind: 'database', user: 'alice', name: 'kyaml', version: '1' },
      ssh_authorized_keys: '/home/alice/.ssh/authorized_keys',
      client: exportUrl,
      verbose_level: 3,
      force: true,
    };
    exported.set('/home/alice/.ssh/authorized_keys', KEYS);
    const start = await call(base, 'POST', '/deployment/', { headers: admin, body });
    expect(start.status).toBe(200);
    const { wid, resources } = start.json() as { wid: string; resources: Record<string, unknown> };
    expect(wid).toMatch(/^D-[0-9a-f-]{36}$/);
    expect(resources).toEqual({
      resource: `/deployment/${wid}`,
      log: `/deployment/${wid}/logs`,
      logs: { c1: `/deployment/${wid}/logs/c1` },
      state: `/deployment/${wid}/state`,
      status: `/deployment/${wid}/status`,
      error: `/deployment/${wid}/error`,
    });
    const w = await pollDone(`/deployment/${wid}`, admin);
    expect(w).toMatchObject({
      wid,
      user: ADMIN,
      done: true,
      error: false,
      environment: { user: 'alice', name: 'kyaml', version: 1 },
      nodes: { ok: [], ko: [N1, N2] },
    });
    expect(typeof w.time).toBe('number');
    const state = (await call(base, 'GET', `/deployment/${wid}/state`, { headers: admin })).json() as Record<
      string,
      { state: string }
    >;
    expect(Object.keys(state).sort()).toEqual([N1, N2]);
    expect(state[N1]?.state).toBe('ko');
    const logs = await call(base, 'GET', `/deployment/${wid}/logs`, { headers: admin });
    expect([logs.status, logs.headers['content-type']]).toEqual([200, 'text/plain; charset=utf-8']);
    expect(logs.text).toMatch(new RegExp(`^\\d+\\.\\d{5}\\|Deployment #${wid} started\\n`));
    expect((await call(base, 'GET', `/deployment/${wid}/logs`, { headers: admin })).text).toBe('');
    expect((await call(base, 'GET', `/deployment/${wid}/status`, { headers: admin })).json()).toEqual({});
    expect((await call(base, 'GET', `/deployment/${wid}/error`, { headers: admin })).text).toBe('');
    // Not alice's: another user's workflow is unknown to her (code 1).
    expect(kerr(await call(base, 'GET', `/deployment/${wid}`, { headers: alice }))).toMatchObject({
      status: 400,
      code: '1',
    });
    const del = await call(base, 'DELETE', `/deployment/${wid}`, { headers: admin });
    expect([del.status, del.json()]).toEqual([200, { wid }]);
    expect(kerr(await call(base, 'GET', `/deployment/${wid}`, { headers: admin }))).toMatchObject({
      status: 400,
      code: '1',
    });
    // Still an ordinary kaploy operation: the native API and the statistics know it.
    const native = (
      await call(server.url, 'GET', `/deployment/${wid}`, { headers: bearer(ADMIN) })
    ).json() as { status: string };
    expect(native.status).toBe('done');
  });
});

describe('bad input', () => {
  it('each kind is refused with its code and nothing is started', async () => {
    const env = { kind: 'database', user: 'alice', name: 'kyaml' };
    const cases: [string, Parameters<typeof call>[3], number, string | undefined][] = [
      [
        'malformed JSON',
        { headers: admin, yaml: undefined, body: undefined, raw: '{"nodes": [' } as never,
        400,
        '4',
      ],
      ['a YAML body that does not parse', { headers: admin, yaml: 'nodes: [a, b\n' }, 400, '4'],
      ['a body that is not a hash', { headers: admin, body: ['x'] }, 400, '4'],
      [
        'a body over 4 MiB',
        { headers: admin, body: { nodes: [N1], environment: env, breakpoint: 'x'.repeat(5 * 1024 * 1024) } },
        413,
        undefined,
      ],
      [
        'environment kind unknown',
        { headers: admin, body: { nodes: [N1], environment: { ...env, kind: 'other' } } },
        400,
        '7',
      ],
      [
        'verbose_level out of range',
        { headers: admin, body: { nodes: [N1], environment: env, verbose_level: 9 } },
        400,
        '4',
      ],
      [
        'automata not a hash of lists',
        { headers: admin, body: { nodes: [N1], environment: env, automata: { SetDeploymentEnv: 'x' } } },
        400,
        '4',
      ],
      [
        'automata with an unknown step',
        {
          headers: admin,
          body: {
            nodes: [N1],
            environment: env,
            automata: { SetDeploymentEnv: [{ name: 'Nope', retries: 1, timeout: 10 }] },
          },
        },
        400,
        '4',
      ],
      [
        'a client with credentials',
        { headers: admin, body: { nodes: [N1], environment: env, client: 'http://u:p@127.0.0.1:1' } },
        400,
        '3',
      ],
      [
        'a local key without client',
        { headers: admin, body: { nodes: [N1], environment: env, ssh_authorized_keys: '/home/alice/keys' } },
        400,
        '3',
      ],
      [
        'a key the client does not export',
        {
          headers: admin,
          body: { nodes: [N1], environment: env, ssh_authorized_keys: '/nowhere', client: exportUrl },
        },
        400,
        '5',
      ],
      [
        'a node name the native schema refuses',
        { headers: admin, body: { nodes: ['bad name!'], environment: env } },
        400,
        '4',
      ],
      [
        'malformed Basic',
        { headers: { authorization: 'Basic !!!' }, body: { nodes: [N1], environment: env } },
        401,
        undefined,
      ],
      [
        'Basic without a colon',
        { headers: { authorization: `Basic ${Buffer.from('alice').toString('base64')}` }, body: {} },
        401,
        undefined,
      ],
      [
        'Basic naming someone else in the header',
        { headers: { ...alice, 'X-Kadeploy-User': 'bob' }, body: {} },
        401,
        undefined,
      ],
    ];
    for (const [what, o, status, code] of cases) {
      const r = (o as { raw?: string }).raw
        ? await rawPost('/deployment', (o as { raw: string }).raw)
        : await call(base, 'POST', '/deployment', o);
      expect([what, r.status, refusal(r).code]).toEqual([what, status, code]);
    }
    expect((await call(base, 'GET', '/deployment', { headers: admin })).json()).toEqual([]);
    const badWid = await call(base, 'GET', '/deployment/D-not-a-uuid', { headers: admin });
    expect(kerr(badWid)).toMatchObject({ status: 400, code: '1' });
    const otherKind = await call(base, 'GET', '/reboot/D-00000000-0000-4000-8000-000000000000', {
      headers: admin,
    });
    expect(kerr(otherKind)).toMatchObject({ status: 400, code: '1' });
  });
});

describe('reboot and power', () => {
  it('POST /reboot: a workflow polled until done; PUT /power and the GET /power status workflow', async () => {
    const r = await call(base, 'POST', '/reboot', {
      headers: admin,
      body: { nodes: [N1], kind: 'simple', level: 'soft' },
    });
    expect(r.status).toBe(200);
    const rw = (r.json() as { wid: string }).wid;
    expect(rw).toMatch(/^R-/);
    expect(await pollDone(`/reboot/${rw}`, admin)).toMatchObject({ done: true, nodes: { ok: [], ko: [N1] } });
    const bad = await call(base, 'POST', '/reboot', {
      headers: admin,
      body: { nodes: [N1], kind: 'sideways' },
    });
    expect(kerr(bad)).toMatchObject({ status: 400, code: '4' });
    // set_pxe: pxe.profile is kareboot3 -w's profile, checked by the engine; files and singularities are not offered.
    const pxe = await call(base, 'POST', '/reboot', {
      headers: admin,
      body: {
        nodes: [N1],
        kind: 'set_pxe',
        pxe: { profile: 'DEFAULT x\nLABEL x\n  KERNEL vmlinuz\n  APPEND initrd=initrd.img\n' },
      },
    });
    expect(pxe.status).toBe(200);
    await pollDone(`/reboot/${(pxe.json() as { wid: string }).wid}`, admin);
    const noInitrd = await call(base, 'POST', '/reboot', {
      headers: admin,
      body: { nodes: [N1], kind: 'set_pxe', pxe: { profile: 'DEFAULT x\nLABEL x\n  KERNEL vmlinuz\n' } },
    });
    expect(kerr(noInitrd)).toMatchObject({ status: 400, info: expect.stringMatching(/no initrd/) });
    const files = await call(base, 'POST', '/reboot', {
      headers: admin,
      body: { nodes: [N1], kind: 'set_pxe', pxe: { profile: 'DEFAULT x', files: ['/home/alice/vmlinuz'] } },
    });
    expect(kerr(files)).toMatchObject({ status: 400, code: '4', info: expect.stringMatching(/^pxe: /) });

    const off = await call(base, 'PUT', '/power', { headers: admin, body: { nodes: [N1], status: 'off' } });
    expect(off.status).toBe(200);
    const pw = (off.json() as { wid: string }).wid;
    expect(await pollDone(`/power/${pw}`, admin)).toMatchObject({ done: true });
    const st = await call(base, 'GET', `/power?nodes=${N1}&nodes=${N2}`, { headers: admin });
    expect(st.status).toBe(200);
    const sw = (st.json() as { wid: string }).wid;
    expect(sw).toMatch(/^P-/);
    expect(await pollDone(`/power/${sw}`, admin)).toMatchObject({ done: true });
    const state = (await call(base, 'GET', `/power/${sw}/state`, { headers: admin })).json() as Record<
      string,
      unknown
    >;
    expect(Object.keys(state).sort()).toEqual([N1, N2]);
  });
});

describe('the checks every operation request shares', () => {
  it('deployment, reboot and power refuse alike another user, no nodes and a verbosity outside 0-5', async () => {
    const env = { kind: 'database', user: 'alice', name: 'kyaml' };
    const routes: [string, string, Record<string, unknown>][] = [
      ['POST', '/deployment', { environment: env }],
      ['POST', '/reboot', { kind: 'simple' }],
      ['PUT', '/power', { status: 'off' }],
    ];
    for (const [method, path, extra] of routes) {
      const cases: [string, Record<string, unknown>, number, string | undefined][] = [
        // Kadeploy answers an authentication failure as a plain-text 401, without an error code.
        ['another user', { ...extra, nodes: [N1], user: 'bob' }, 401, undefined],
        ['no nodes', { ...extra, nodes: [] }, 400, '2'],
        ['verbose_level 6', { ...extra, nodes: [N1], verbose_level: 6 }, 400, '4'],
        ['verbose_level -1', { ...extra, nodes: [N1], verbose_level: -1 }, 400, '4'],
      ];
      for (const [what, body, status, code] of cases) {
        const r = await call(base, method as 'POST', path, { headers: alice, body });
        expect([path, what, r.status, refusal(r).code]).toEqual([path, what, status, code]);
      }
    }
  });
});

describe('rights', () => {
  it('POST grants (admins only, the native refusal otherwise), GET in Kadeploy shape, DELETE revokes', async () => {
    const grant = { username: 'alice', nodes: [N1], partitions: ['/dev/sda3'] };
    const refused = await call(base, 'POST', '/rights', { headers: alice, body: grant });
    const native = (
      await call(server.url, 'POST', '/rights', {
        headers: bearer('alice'),
        body: { user: 'alice', nodes: [N1], partitions: ['/dev/sda3'] },
      })
    ).json() as { error: { message: string } };
    expect(kerr(refused)).toMatchObject({ status: 400, code: '6', info: native.error.message });

    const ok = await call(base, 'POST', '/rights', { headers: admin, body: grant });
    expect([ok.status, ok.json()]).toEqual([200, { alice: { [N1]: ['/dev/sda3'] } }]);
    const again = await call(base, 'POST', '/rights', { headers: admin, body: grant });
    expect(kerr(again)).toMatchObject({ status: 400, code: '14' });
    const mine = await call(base, 'GET', '/rights', { headers: alice });
    expect(mine.json()).toEqual({ alice: { [N1]: ['/dev/sda3'] } });
    const unknownNode = await call(base, 'POST', '/rights', {
      headers: admin,
      body: { username: 'alice', nodes: ['node-9.elsewhere'] },
    });
    expect(kerr(unknownNode)).toMatchObject({ status: 400, code: '2' });
    expect(kerr(await call(base, 'GET', '/rights/bob', { headers: alice }))).toMatchObject({
      status: 400,
      code: '6',
    });

    // With the right, alice's deployment on N1 passes the rights check and runs.
    const dep = await call(base, 'POST', '/deployment', {
      headers: alice,
      body: { nodes: [N1], environment: { kind: 'database', user: 'alice', name: 'kyaml' }, force: true },
    });
    expect(dep.status).toBe(200);
    await pollDone(`/deployment/${(dep.json() as { wid: string }).wid}`, alice);

    const del = await call(base, 'DELETE', `/rights/alice/${N1}`, { headers: admin });
    expect([del.status, del.json()]).toEqual([200, { alice: { [N1]: ['*'] } }]);
    expect((await call(base, 'GET', '/rights', { headers: alice })).json()).toEqual({});
    expect(kerr(await call(base, 'DELETE', `/rights/alice/${N1}`, { headers: admin }))).toMatchObject({
      status: 400,
      code: '14',
    });
  });
});

describe('stats', () => {
  it('rows as CSV with repeated fields, nodes and RFC 2616 dates; failure rates 0..1', async () => {
    const rows = await call(base, 'GET', `/stats/deploy?fields=hostname&fields=success&nodes=${N2}`, {
      headers: alice,
    });
    expect([rows.status, rows.headers['content-type']]).toEqual([200, 'text/csv; charset=utf-8']);
    const lines = rows.text.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toBe(`${N2},false`);
    const all = await call(base, 'GET', '/stats', { headers: alice });
    expect(all.text.trim().split('\n')[0]?.split(',')).toHaveLength(20);
    const future = new Date(Date.now() + 86_400_000).toUTCString();
    const none = await call(base, 'GET', `/stats?date_min=${encodeURIComponent(future)}`, { headers: alice });
    expect([none.status, none.text]).toEqual([200, '']);
    const past = new Date(Date.now() + 86_400_000).toUTCString();
    const upTo = await call(base, 'GET', `/stats/reboot?date_max=${encodeURIComponent(past)}&fields=wid`, {
      headers: alice,
    });
    expect(
      upTo.text
        .trim()
        .split('\n')
        .every((l) => l.startsWith('R-')),
    ).toBe(true);
    const rates = await call(base, 'GET', '/stats?kind=failure_rates&min_failure_rate=0.5', {
      headers: alice,
    });
    expect(rates.json()).toEqual({ [N1]: 1, [N2]: 1 });
    for (const q of [
      'date_min=yesterday',
      'kind=sometimes',
      'min_failure_rate=50',
      'fields=colour',
      'colour=1',
    ]) {
      const r = await call(base, 'GET', `/stats?${q}`, { headers: alice });
      expect([q, kerr(r).status, kerr(r).code]).toEqual([q, 400, '4']);
    }
  });
});

describe('info', () => {
  it('answers YAML to a client that asks for it, JSON otherwise', async () => {
    const y = await call(base, 'GET', '/clusters', { headers: { ...alice, accept: 'application/x-yaml' } });
    expect([y.status, y.headers['content-type'], y.text]).toEqual([
      200,
      'application/x-yaml; charset=utf-8',
      '- c1\n',
    ]);
    const j = await call(base, 'GET', '/clusters', { headers: { ...alice, accept: '*/*' } });
    expect([j.headers['content-type'], j.text]).toEqual(['application/json; charset=utf-8', '["c1"]']);
    const first = await call(base, 'GET', '/clusters', {
      headers: { ...alice, accept: 'application/json, application/x-yaml' },
    });
    expect(first.text).toBe('["c1"]');
  });

  it('GET /clusters and /info', async () => {
    expect((await call(base, 'GET', '/clusters', { headers: alice })).json()).toEqual(['c1']);
    const info = (await call(base, 'GET', '/info', { headers: alice })).json() as {
      automata: Record<string, unknown>;
    };
    expect(Object.keys(info.automata)).toEqual(['c1']);
  });
});

describe('nodes', () => {
  it('GET /nodes[/:node]: kanodes3 status per node, `nodes` and `list`; an unknown node is a 404', async () => {
    // What a deployment leaves in the store, written there directly (these nodes never answer).
    server.ctx.store.nodes.update(N2, {
      state: 'deployed',
      env: 'debian12-min:3',
      env_user: 'root',
      user: 'alice',
    });
    const n2 = {
      state: 'deployed',
      user: 'alice',
      environment: { name: 'debian12-min', version: 3, user: 'root' },
    };
    const all = await call(base, 'GET', '/nodes', { headers: alice });
    expect(all.status).toBe(200);
    const hash = all.json() as Record<string, unknown>;
    expect(Object.keys(hash)).toEqual([N1, N2]);
    expect(hash[N2]).toEqual(n2);
    expect(hash[N1]).toEqual({
      state: expect.any(String),
      user: expect.toBeOneOf([null, expect.any(String)]),
      environment: expect.any(Object),
    });
    expect((await call(base, 'GET', `/nodes/${N2}`, { headers: alice })).json()).toEqual(n2);
    expect((await call(base, 'GET', `/nodes?nodes=${N2}`, { headers: alice })).json()).toEqual({ [N2]: n2 });
    expect((await call(base, 'GET', `/nodes?list&nodes=${N2}`, { headers: alice })).json()).toEqual([N2]);
    const unknown = await call(base, 'GET', '/nodes/node-9.testsite', { headers: alice });
    expect([unknown.status, unknown.headers['content-type'], unknown.text]).toEqual([
      404,
      'text/plain; charset=utf-8',
      'File not found: node node-9.testsite',
    ]);
    expect((await call(base, 'GET', '/nodes?list&nodes=node-9.testsite', { headers: alice })).status).toBe(
      404,
    );
    expect(kerr(await call(base, 'GET', '/nodes?state=x', { headers: alice }))).toMatchObject({
      status: 400,
      code: '4',
      info: "invalid request: unknown parameter 'state'",
    });
  });
});

describe('answers', () => {
  it('gzip for a client that accepts it (JSON, YAML, CSV), never for text or errors; not cached', async () => {
    const plain = await call(base, 'GET', '/environments', { headers: alice });
    const gz = await call(base, 'GET', '/environments', {
      headers: { ...alice, 'accept-encoding': 'gzip, deflate' },
    });
    expect([gz.status, gz.headers['content-encoding'], gz.headers.vary]).toEqual([
      200,
      'gzip',
      'Accept-Encoding',
    ]);
    expect(gunzipSync(gz.raw).toString('utf8')).toBe(plain.text);
    expect(Number(gz.headers['content-length'])).toBe(gz.raw.length);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect([plain.headers['cache-control'], plain.headers.pragma]).toEqual([
      'no-store, no-cache',
      'no-cache',
    ]);
    const yaml = await call(base, 'GET', '/clusters', {
      headers: { ...alice, accept: 'application/x-yaml', 'accept-encoding': 'gzip' },
    });
    expect([yaml.headers['content-encoding'], gunzipSync(yaml.raw).toString('utf8')]).toEqual([
      'gzip',
      '- c1\n',
    ]);
    const csv = await call(base, 'GET', '/stats', { headers: { ...alice, 'accept-encoding': 'gzip' } });
    expect([csv.headers['content-type'], csv.headers['content-encoding']]).toEqual([
      'text/csv; charset=utf-8',
      'gzip',
    ]);
    gunzipSync(csv.raw);
    // Kadeploy reads a list naming * as no preference; text answers and refusals stay as they are.
    const star = await call(base, 'GET', '/clusters', {
      headers: { ...alice, 'accept-encoding': 'gzip, *' },
    });
    expect([star.headers['content-encoding'], star.text]).toEqual([undefined, '["c1"]']);
    const text = await call(base, 'GET', '/version', { headers: { 'accept-encoding': 'gzip' } });
    expect([text.headers['content-encoding'], text.text]).toEqual([
      undefined,
      expect.stringMatching(/^3\.3\.0\+/),
    ]);
    const refused = await call(base, 'GET', '/rights/bob', {
      headers: { ...alice, 'accept-encoding': 'gzip' },
    });
    expect([refused.status, refused.headers['content-encoding']]).toEqual([400, undefined]);
    expect(refused.headers['cache-control']).toBeUndefined();
  });
});

const bearer = (user: string) => ({
  authorization: `Bearer ${readFileSync(site.tokenFile(user), 'utf8').trim()}`,
});

/** A POST whose body is sent as is (malformed JSON). */
function rawPost(p: string, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const u = new URL(base + p);
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        headers: { ...admin, 'content-type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const text = raw.toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            raw,
            json: () => JSON.parse(text),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
