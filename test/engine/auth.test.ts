import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/client/http-client.js';
import { silentLogger } from '../../src/common/logger.js';
import { type RunningServer, startEngine } from '../../src/engine/main.js';
import { run } from './helpers/run.js';
import { makeSite, type TestSite } from './helpers/site.js';

let site: TestSite;
let server: RunningServer;

beforeAll(async () => {
  site = makeSite({ users: ['alice', 'bob'] });
  server = await startEngine(site.config, { port: 0, logger: silentLogger });
});

afterAll(async () => {
  await server?.close();
  site?.cleanup();
});

async function raw(headers: Record<string, string>, p = '/info') {
  const res = await fetch(server.url + p, { headers });
  return {
    status: res.status,
    body: (await res.json()) as { error?: { code: string; appCode: number; message: string } },
  };
}

describe('authentication', () => {
  it('answers 401 KAPLOY_AUTH without credentials, on every route', async () => {
    for (const p of ['/version', '/info', '/environments', '/rights', '/nodes', '/no-such-route']) {
      const r = await raw({}, p);
      expect(r.status).toBe(401);
      expect(r.body.error).toMatchObject({ code: 'KAPLOY_AUTH', appCode: 101 });
    }
  });

  it('refuses malformed and unknown tokens', async () => {
    expect((await raw({ authorization: 'Basic YWxpY2U6eA==' })).body.error?.message).toContain(
      'malformed Authorization header',
    );
    expect((await raw({ authorization: 'Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })).status).toBe(
      401,
    );
  });

  it('knows who calls, and who is admin', async () => {
    const alice = site.client('alice', server.url);
    const admin = site.client('admin', server.url);
    expect(await alice.request('GET', '/info')).toMatchObject({
      user: 'alice',
      admin: false,
      site: 'testsite',
      clusters: ['c1'],
    });
    expect(await admin.request('GET', '/info')).toMatchObject({ user: 'admin', admin: true });
    await alice.close();
    await admin.close();
  });

  it('kaenv3 exits 5 with a clear message on a missing, wrong or world-readable token', async () => {
    const env = site.envFor('alice', server.url);
    const missing = await run('kaenv3', ['-l'], {
      env: { ...env, KAPLOY_TOKEN_FILE: path.join(site.dir, 'nope') },
    });
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain('no credentials: cannot read token file');
    const wrong = path.join(site.dir, 'wrong-token');
    writeFileSync(wrong, 'x'.repeat(43), { mode: 0o600 });
    const bad = await run('kaenv3', ['-l'], { env: { ...env, KAPLOY_TOKEN_FILE: wrong } });
    expect(bad.code).toBe(5);
    expect(bad.stderr).toContain(
      'authentication failed: unknown or revoked token (ask a site admin to enrol you again) [KAPLOY_AUTH]',
    );
    chmodSync(wrong, 0o644);
    const readable = await run('kaenv3', ['-l'], { env: { ...env, KAPLOY_TOKEN_FILE: wrong } });
    expect(readable.code).toBe(5);
    expect(readable.stderr).toContain('is readable by others (mode 644)');
  });

  it('rotating a token (kaploy server token) revokes the old one at once', async () => {
    const old = site.client('bob', server.url);
    await old.request('GET', '/info');
    const out = path.join(site.dir, 'bob-new');
    const r = await run(
      'kaploy',
      ['server', 'token', '--config', site.configFile, '--user', 'bob', '--out', out],
      { env: process.env },
    );
    expect(r.stdout).toBe(`token for bob written to ${out}\n`);
    await expect(old.request('GET', '/info')).rejects.toMatchObject({ code: 'KAPLOY_AUTH' });
    const fresh = new ApiClient({
      url: server.url,
      token: (await import('node:fs')).readFileSync(out, 'utf8').trim(),
    });
    expect(await fresh.request('GET', '/info')).toMatchObject({ user: 'bob' });
    const bad = await run(
      'kaploy',
      ['server', 'token', '--config', site.configFile, '--user', '../root', '--out', out],
      { env: process.env },
    );
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain("invalid user name '../root'");
    await old.close();
    await fresh.close();
  });

  it('kaploy server token enrols several users at once into --out-dir DIR/USER', async () => {
    const dir = path.join(site.dir, 'many');
    const r = await run(
      'kaploy',
      ['server', 'token', '--config', site.configFile, '--out-dir', dir, '--user', 'carol', 'dave', 'carol'],
      { env: process.env },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `token for carol written to ${path.join(dir, 'carol')}\ntoken for dave written to ${path.join(dir, 'dave')}\n`,
    );
    const { readFileSync, statSync } = await import('node:fs');
    for (const u of ['carol', 'dave']) {
      expect(statSync(path.join(dir, u)).mode & 0o777).toBe(0o600);
      const c = new ApiClient({ url: server.url, token: readFileSync(path.join(dir, u), 'utf8').trim() });
      expect(await c.request('GET', '/info')).toMatchObject({ user: u });
      await c.close();
    }
  });

  it('kaploy server token refuses one --out for several users, --out with --out-dir, a bad name among many', async () => {
    const cases: [string[], string][] = [
      [['--user', 'carol', 'dave', '--out', path.join(site.dir, 'x')], '--out names one file'],
      [['--user', 'carol', '--out', path.join(site.dir, 'x'), '--out-dir', site.dir], 'exclusive'],
      [
        ['--user', 'carol', '../root', '--out-dir', path.join(site.dir, 'bad')],
        "invalid user name '../root'",
      ],
    ];
    for (const [args, message] of cases) {
      const r = await run('kaploy', ['server', 'token', '--config', site.configFile, ...args], {
        env: process.env,
      });
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(message);
    }
    // Names are checked before any secret is written: carol's file was not made.
    const { existsSync } = await import('node:fs');
    expect(existsSync(path.join(site.dir, 'bad', 'carol'))).toBe(false);
    expect(existsSync(path.join(site.dir, 'x'))).toBe(false);
  });

  it('a user cannot act as another: environments are added for the caller only', async () => {
    const alice = site.client('alice', server.url);
    // There is no field to name another owner; an unknown property is refused outright.
    await expect(
      alice.request('POST', '/environments', { body: { description: 'name: x', user: 'bob' } }),
    ).rejects.toMatchObject({ code: 'KAPLOY_OPTION' });
    await expect(
      alice.request('PUT', '/environments/bob/x', { body: { toggle_destructive: true } }),
    ).rejects.toMatchObject({
      code: 'KAPLOY_ENVIRONMENT',
    });
    await alice.close();
  });
});
