import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/logger.js';
import { enrolUser } from '../../../src/engine/auth/enrol.js';
import { addEnvironment } from '../../../src/engine/environments/environment-service.js';
import { type RunningEngine, startEngine } from '../../../src/engine/main.js';
import type { NodeOpOutcome } from '../../../src/engine/nodeops/node-op-outcome.js';
import { REBOOT } from '../../../src/engine/nodeops/nodeop-kinds.js';
import type { OperationPlan } from '../../../src/engine/operations/operation-kind.js';
import { makeSite, type TestSite } from '../helpers/site.js';

/**
 * The dashboard's refusals, through the real engine (fastify inject): no session, forged and
 * expired cookies, a revoked secret, another user's operation, a form without its CSRF token, and
 * script in texts that come from users (rendered as text).
 */
let site: TestSite;
let engine: RunningEngine;
const N1 = 'node-1.testsite';
const N2 = 'node-2.testsite';
const SCRIPT = '<script>alert(1)</script><img src=x onerror=alert(2)>';

const secret = (u: string) => readFileSync(site.tokenFile(u), 'utf8').trim();

async function login(user: string): Promise<{ cookie: string; csrf: string }> {
  const r = await engine.app.inject({
    method: 'POST',
    url: '/ui/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ secret: secret(user) }).toString(),
  });
  expect(r.statusCode).toBe(303);
  expect(r.headers.location).toBe('/ui/nodes');
  const set = String(r.headers['set-cookie']);
  expect(set).toMatch(/^kaploy_ui=[A-Za-z0-9_-]{43}; Path=\/ui; HttpOnly; SameSite=Strict; Max-Age=28800$/);
  const cookie = set.split(';')[0] as string;
  const page = await engine.app.inject({ method: 'GET', url: '/ui/nodes', headers: { cookie } });
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1] as string;
  return { cookie, csrf };
}

/** A reboot of alice's whose node N2 fails with `reason`, run to its end (no node is touched). */
async function aliceReboot(reason: string): Promise<string> {
  const plan: OperationPlan<NodeOpOutcome> = {
    kind: REBOOT,
    user: 'alice',
    nodes: [N1, N2],
    request: { kind: 'simple', nodes: [N1, N2], impl: 'Simple' },
    env: '',
    discarded: [],
    runningState: 'rebooting',
    debug: false,
    run: async () =>
      [N1, N2].map((node) => ({
        node,
        status: node === N2 ? 'ko' : 'ok',
        step: 'Simple',
        micro: 'reboot',
        ...(node === N2 ? { reason } : {}),
        retries: 0,
        timeoutSec: 10,
        durationMs: 1000,
      })),
    settle: (o) => ({ state: o.status === 'ok' ? 'rebooted' : 'reboot_failed' }),
  };
  const wid = engine.services.operations.launch(plan);
  await engine.services.operations.idle();
  return wid;
}

beforeAll(async () => {
  site = makeSite({ users: ['alice', 'bob', 'carol'] });
  engine = await startEngine(site.config, { port: 0, logger: silentLogger, restores: 'routes' });
});
afterAll(async () => {
  await engine?.close();
  site?.cleanup();
});

describe('dashboard sessions', () => {
  it('sends a request without a session to the login page, and refuses a POST', async () => {
    for (const url of ['/ui/nodes', '/ui/operations', '/ui/nodes/node-1.testsite', '/ui']) {
      const r = await engine.app.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(303);
      expect(r.headers.location).toBe(url === '/ui' ? '/ui/login' : '/ui/login');
    }
    const post = await engine.app.inject({
      method: 'POST',
      url: '/ui/logout',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'csrf=x',
    });
    expect(post.statusCode).toBe(401);
    expect(post.headers['content-type']).toMatch(/^text\/html/);
  });

  it('refuses a forged cookie, a malformed one and an oversized Cookie header', async () => {
    for (const cookie of [
      `kaploy_ui=${'A'.repeat(43)}`,
      'kaploy_ui=../../etc/passwd',
      `kaploy_ui=${'x'.repeat(10_000)}`,
      'kaploy_ui=',
    ]) {
      const r = await engine.app.inject({ method: 'GET', url: '/ui/nodes', headers: { cookie } });
      expect(r.statusCode).toBe(303);
    }
  });

  it('refuses a wrong secret at login, and script in it is not echoed', async () => {
    for (const s of ['x'.repeat(43), SCRIPT, '']) {
      const r = await engine.app.inject({
        method: 'POST',
        url: '/ui/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ secret: s }).toString(),
      });
      expect(r.statusCode).toBe(401);
      expect(r.headers['set-cookie']).toBeUndefined();
      expect(r.body).not.toContain('<script>alert');
    }
    const big = await engine.app.inject({
      method: 'POST',
      url: '/ui/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `secret=${'a'.repeat(20_000)}`,
    });
    expect(big.statusCode).toBe(413);
  });

  it('ends the sessions of a secret that was rotated', async () => {
    const { cookie } = await login('carol');
    expect(
      (await engine.app.inject({ method: 'GET', url: '/ui/nodes', headers: { cookie } })).statusCode,
    ).toBe(200);
    enrolUser(engine.ctx.store, { user: 'carol', site: site.config.site, out: site.tokenFile('carol') });
    const r = await engine.app.inject({ method: 'GET', url: '/ui/nodes', headers: { cookie } });
    expect(r.statusCode).toBe(303);
  });

  it('expires a session after its lifetime', async () => {
    const { cookie } = await login('bob');
    const now = Date.now;
    try {
      Date.now = () => now() + 8 * 3600_000 + 1000;
      const r = await engine.app.inject({ method: 'GET', url: '/ui/nodes', headers: { cookie } });
      expect(r.statusCode).toBe(303);
    } finally {
      Date.now = now;
    }
    // Gone for good, not only while the clock was ahead.
    const again = await engine.app.inject({ method: 'GET', url: '/ui/nodes', headers: { cookie } });
    expect(again.statusCode).toBe(303);
  });

  it('does not let the cookie stand for a bearer on the API, nor a bearer open the dashboard', async () => {
    const { cookie } = await login('alice');
    const api = await engine.app.inject({ method: 'GET', url: '/nodes', headers: { cookie } });
    expect(api.statusCode).toBe(401);
    const ui = await engine.app.inject({
      method: 'GET',
      url: '/ui/nodes',
      headers: { authorization: `Bearer ${secret('alice')}` },
    });
    expect(ui.statusCode).toBe(303);
  });

  it('serves pages with a policy that forbids inline script', async () => {
    const { cookie } = await login('alice');
    const r = await engine.app.inject({ method: 'GET', url: '/ui/nodes', headers: { cookie } });
    expect(r.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(r.headers['content-security-policy']).not.toMatch(/unsafe-inline/);
    expect(r.body).not.toMatch(/<script>/);
  });
});

describe('dashboard rights and CSRF', () => {
  it("shows alice her KO node's reason as text, and bob neither the operation nor its stream", async () => {
    const wid = await aliceReboot(`failed: ${SCRIPT}`);
    const alice = await login('alice');
    const mine = await engine.app.inject({
      method: 'GET',
      url: `/ui/operations/${wid}`,
      headers: { cookie: alice.cookie },
    });
    expect(mine.statusCode).toBe(200);
    expect(mine.body).toContain(
      'failed: &lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;',
    );
    expect(mine.body).not.toContain(SCRIPT);
    expect(mine.body).toMatch(/data-node="node-2.testsite">.*class="state st-ko">ko</);
    const bob = await login('bob');
    for (const url of [`/ui/operations/${wid}`, `/ui/operations/${wid}/events`]) {
      const r = await engine.app.inject({ method: 'GET', url, headers: { cookie: bob.cookie } });
      expect(r.statusCode, url).toBe(404);
      expect(r.body).not.toContain('node-2');
    }
    const list = await engine.app.inject({
      method: 'GET',
      url: '/ui/operations',
      headers: { cookie: bob.cookie },
    });
    expect(list.body).not.toContain(wid);
    // An admin sees it.
    const admin = await login('admin');
    const r = await engine.app.inject({
      method: 'GET',
      url: `/ui/operations/${wid}`,
      headers: { cookie: admin.cookie },
    });
    expect(r.statusCode).toBe(200);
  });

  it('answers a malformed or unknown workflow id as unknown', async () => {
    const { cookie } = await login('alice');
    for (const wid of [
      'D-nothing',
      'X-00000000-0000-0000-0000-000000000000',
      'D-00000000-0000-0000-0000-000000000000',
      '%3Cscript%3E',
    ]) {
      const r = await engine.app.inject({ method: 'GET', url: `/ui/operations/${wid}`, headers: { cookie } });
      expect(r.statusCode, wid).toBe(404);
      expect(r.body).not.toContain('<script>');
    }
    const v = await engine.app.inject({
      method: 'GET',
      url: '/ui/operations/D-00000000-0000-0000-0000-000000000000?verbosity=9',
      headers: { cookie },
    });
    expect(v.statusCode).toBe(400);
  });

  it("refuses a logout without the CSRF token, with another session's, or from another origin", async () => {
    const a = await login('alice');
    const b = await login('bob');
    const post = (csrf: string, origin?: string) =>
      engine.app.inject({
        method: 'POST',
        url: '/ui/logout',
        headers: {
          cookie: a.cookie,
          'content-type': 'application/x-www-form-urlencoded',
          ...(origin ? { origin } : {}),
        },
        payload: new URLSearchParams({ csrf }).toString(),
      });
    expect((await post('')).statusCode).toBe(403);
    expect((await post(b.csrf)).statusCode).toBe(403);
    expect((await post(a.csrf, 'http://evil.example')).statusCode).toBe(403);
    // Still logged in after the refusals; the right token logs out.
    expect(
      (await engine.app.inject({ method: 'GET', url: '/ui/nodes', headers: { cookie: a.cookie } }))
        .statusCode,
    ).toBe(200);
    const ok = await post(a.csrf);
    expect(ok.statusCode).toBe(303);
    expect(
      (await engine.app.inject({ method: 'GET', url: '/ui/nodes', headers: { cookie: a.cookie } }))
        .statusCode,
    ).toBe(303);
  });

  it('serves only its own static files', async () => {
    for (const f of ['..%2F..%2Fpackage.json', 'routes-ui.ts', '%2Fetc%2Fpasswd', 'constructor']) {
      const r = await engine.app.inject({ method: 'GET', url: `/ui/static/${f}` });
      expect(r.statusCode, f).toBe(404);
    }
    const css = await engine.app.inject({ method: 'GET', url: '/ui/static/uPlot.min.css' });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toMatch(/^text\/css/);
  });
});

describe('dashboard environments, statistics and restores', () => {
  it('renders script in an environment description as text, in the listing and the description', async () => {
    const img = `${site.imageDir}/img.tgz`;
    (await import('node:fs')).writeFileSync(img, 'image\n');
    await addEnvironment(
      engine.ctx,
      { name: 'alice', admin: false },
      {
        description: [
          '---',
          'name: xss-env',
          `description: "${SCRIPT.replace(/"/g, '\\"')}"`,
          'visibility: shared',
          'os: linux',
          'image:',
          `  file: ${img}`,
          '  kind: tar',
          '  compression: gzip',
          'boot: {kernel: /vmlinuz}',
          'filesystem: ext4',
          '',
        ].join('\n'),
        file: 'xss.yaml',
        uploads: [],
      },
    );
    const { cookie } = await login('bob');
    for (const url of ['/ui/environments?user=alice', '/ui/environments/alice/xss-env']) {
      const r = await engine.app.inject({ method: 'GET', url, headers: { cookie } });
      expect(r.statusCode, url).toBe(200);
      expect(r.body, url).toContain('&lt;script&gt;alert(1)');
      expect(r.body, url).not.toContain('<script>alert');
      expect(r.body, url).not.toContain('<img src=x');
    }
    const bad = await engine.app.inject({
      method: 'GET',
      url: '/ui/environments?user=%3Cb%3E',
      headers: { cookie },
    });
    expect(bad.statusCode).toBe(400);
  });

  it('gives the CSV GET /stats gives for the same filters, and refuses a bad filter', async () => {
    const { cookie } = await login('alice');
    const ui = await engine.app.inject({
      method: 'GET',
      url: '/ui/stats.csv?operation=all',
      headers: { cookie },
    });
    const api = await engine.app.inject({
      method: 'GET',
      url: '/stats?kind=list',
      headers: { authorization: `Bearer ${secret('alice')}` },
    });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('node-2.testsite');
    expect(ui.body).toBe(api.body);
    const page = await engine.app.inject({
      method: 'GET',
      url: '/ui/stats?operation=all',
      headers: { cookie },
    });
    expect(page.body).toMatch(/node-2\.testsite<\/td><td>100\.00%/);
    const bad = await engine.app.inject({
      method: 'GET',
      url: '/ui/stats?from=yesterday',
      headers: { cookie },
    });
    expect(bad.statusCode).toBe(400);
  });

  it('keeps the restores to admins, and the retry button to forms with the CSRF token', async () => {
    const user = await login('alice');
    expect(
      (await engine.app.inject({ method: 'GET', url: '/ui/restores', headers: { cookie: user.cookie } }))
        .statusCode,
    ).toBe(403);
    const admin = await login('admin');
    const page = await engine.app.inject({
      method: 'GET',
      url: '/ui/restores',
      headers: { cookie: admin.cookie },
    });
    expect(page.statusCode).toBe(200);
    const retry = (cookie: string, csrf: string) =>
      engine.app.inject({
        method: 'POST',
        url: '/ui/restores/retry',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ csrf }).toString(),
      });
    expect((await retry(admin.cookie, 'A'.repeat(43))).statusCode).toBe(403);
    expect((await retry(user.cookie, user.csrf)).statusCode).toBe(403);
    const ok = await retry(admin.cookie, admin.csrf);
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe('/ui/restores?retried=0');
  });
});
