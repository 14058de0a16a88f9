import { renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ApiClient } from '../../src/client/http-client.js';
import { silentLogger } from '../../src/common/logger.js';
import { readToken } from '../../src/common/token-file.js';
import { enrolUser } from '../../src/engine/auth/enrol.js';
import { resolveImage } from '../../src/engine/environments/resolve-image.js';
import { type RunningServer, startEngine } from '../../src/engine/main.js';
import { spawnEngine } from './helpers/engine-process.js';
import { run } from './helpers/run.js';
import { makeSite, type TestSite, writeFile } from './helpers/site.js';

let site: TestSite;
let server: RunningServer;

beforeAll(async () => {
  site = makeSite({ users: ['alice'] });
  server = await startEngine(site.config, { port: 0, logger: silentLogger });
});

afterAll(async () => {
  await server?.close();
  site?.cleanup();
});

describe('admin tools and client configuration', () => {
  it('-S picks a server from the client configuration; an unknown name is a usage error', async () => {
    const cfg = path.join(site.dir, 'two-servers.yaml');
    writeFileSync(
      cfg,
      stringify({
        default: 'down',
        servers: {
          down: { url: 'http://127.0.0.1:9' },
          live: { url: server.url, token_file: site.tokenFile('alice') },
        },
      }),
    );
    const env = { ...process.env, KAPLOY_CLIENT_CONFIG: cfg, KAPLOY_TOKEN_FILE: site.tokenFile('alice') };
    const live = await run('kaenv3', ['-l', '-S', 'live'], { env });
    expect(live.code).toBe(0);
    const down = await run('kaenv3', ['-l'], { env });
    expect(down.code).toBe(5);
    expect(down.stderr).toContain('cannot reach the kaploy server down at http://127.0.0.1:9');
    const unknown = await run('kaenv3', ['-l', '-S', 'nancy'], { env });
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain("unknown server 'nancy'; known: down, live");
  });

  it('enrolment writes a mode-600 token owned by the given uid:gid', () => {
    const out = path.join(site.dir, 'home/zoe/.kaploy/tokens/testsite');
    enrolUser(server.ctx.store, { user: 'zoe', site: 'testsite', out, owner: { uid: 4242, gid: 4243 } });
    const st = statSync(out);
    expect(st.mode & 0o777).toBe(0o600);
    expect([st.uid, st.gid]).toEqual([4242, 4243]);
    expect(statSync(path.dirname(out)).mode & 0o777).toBe(0o700);
  });

  it("by default the token goes to the user's home, owned by the user", () => {
    const home = path.join(site.dir, 'home/zed');
    const passwd = writeFile(
      site.dir,
      'passwd',
      `root:x:0:0:root:/root:/bin/sh\nzed:x:4321:4322::${home}:/bin/sh\n`,
    );
    const { file } = enrolUser(server.ctx.store, { user: 'zed', site: 'testsite', passwdFile: passwd });
    expect(file).toBe(`${home}/.kaploy/tokens/testsite`);
    for (const p of [file, `${home}/.kaploy/tokens`, `${home}/.kaploy`]) {
      const st = statSync(p);
      expect([p, st.uid, st.gid]).toEqual([p, 4321, 4322]);
    }
    expect(() =>
      enrolUser(server.ctx.store, { user: 'nobody-here', site: 'testsite', passwdFile: passwd }),
    ).toThrow("no home directory found for user 'nobody-here': give --out FILE");
  });

  it('--move-files rewrites file paths after the site moved its images (admins only)', async () => {
    const img = writeFile(site.imageDir, 'old/img.tgz', 'moving image\n');
    const desc = writeFile(
      site.dir,
      'mv.env',
      `name : mv-env\ntarball : ${img}|tgz\nkernel : /vmlinuz\nfdisktype : 83\nfilesystem : ext4\n`,
    );
    const alice = site.envFor('alice', server.url);
    expect((await run('kaenv3', ['-a', desc], { env: alice })).code).toBe(0);
    renameSync(path.join(site.imageDir, 'old'), path.join(site.imageDir, 'new'));
    const stored = () => server.ctx.store.environments.find({ name: 'mv-env' })[0]!;
    await expect(resolveImage(server.ctx, stored())).rejects.toMatchObject({ code: 'KAPLOY_FILE' });
    const spec = `${site.imageDir}/old::${site.imageDir}/new`;
    const denied = await run('kaenv3', ['--move-files', '-m', spec], { env: alice });
    expect(denied.code).toBe(4);
    const moved = await run('kaenv3', ['--move-files', '-m', spec], {
      env: site.envFor('admin', server.url),
    });
    expect(moved.stdout).toBe('1 environment(s) updated\n');
    expect(stored().image.file).toBe(`${site.imageDir}/new/img.tgz`);
    expect((await resolveImage(server.ctx, stored())).path).toBe(`${site.imageDir}/new/img.tgz`);
    const bad = await run('kaenv3', ['--move-files', '-m', 'onlysource'], { env: alice });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain("invalid file move 'onlysource': expected SRC::DST");
  });

  it('runs on the embedded default site without --config (data in ~/.kaploy/server)', async () => {
    const home = path.join(site.dir, 'default-home');
    const env = { ...process.env, HOME: home };
    const tok = await run('kaploy', ['server', 'token', '--user', 'root'], { env });
    expect(tok.stdout).toBe(`token for root written to ${home}/.kaploy/tokens/local\n`);
    const engine = await spawnEngine(undefined, env);
    try {
      const client = new ApiClient({ url: engine.url, token: readToken(`${home}/.kaploy/tokens/local`) });
      expect(await client.request('GET', '/info')).toMatchObject({
        site: 'local',
        user: 'root',
        admin: true,
        clusters: ['default'],
      });
      expect(await client.request('GET', '/nodes', { query: { list: true } })).toEqual([]);
      await client.close();
      expect(statSync(`${home}/.kaploy/server/kaploy.sqlite`).isFile()).toBe(true);
    } finally {
      engine.proc.kill('SIGTERM');
      expect(await engine.exited).toBe(0);
    }
  });

  it('kaploy server refuses bad options before touching anything', async () => {
    const port = await run('kaploy', ['server', '--config', site.configFile, '--port', '99999'], {
      env: process.env,
    });
    expect(port.code).toBe(3);
    expect(port.stderr).toContain("invalid port '99999': expected 0..65535");
    const owner = await run(
      'kaploy',
      ['server', 'token', '--config', site.configFile, '--user', 'x', '--owner', 'root'],
      {
        env: process.env,
      },
    );
    expect(owner.code).toBe(3);
    expect(owner.stderr).toContain("invalid --owner 'root': expected UID:GID");
    const config = await run(
      'kaploy',
      ['server', 'token', '--config', path.join(site.dir, 'nope.yaml'), '--user', 'x'],
      {
        env: process.env,
      },
    );
    expect(config.code).toBe(3);
    expect(config.stderr).toContain('cannot read site configuration');
    expect(server.ctx.store.users.get('x')).toBeUndefined();
  });
});
