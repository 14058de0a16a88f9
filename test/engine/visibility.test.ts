import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/logger.js';
import { addEnvironment } from '../../src/engine/environments/environment-service.js';
import { type RunningServer, startEngine } from '../../src/engine/main.js';
import { run } from './helpers/run.js';
import { makeSite, type TestSite, writeFile } from './helpers/site.js';

let site: TestSite;
let server: RunningServer;

const desc = (name: string, visibility: string, description = name) =>
  [
    '---',
    `name: ${name}`,
    `description: ${description}`,
    `visibility: ${visibility}`,
    'os: linux',
    'image:',
    '  file: server://IMG',
    '  kind: tar',
    '  compression: gzip',
    'boot: {kernel: /vmlinuz}',
    'filesystem: ext4',
    '',
  ].join('\n');

beforeAll(async () => {
  site = makeSite({ users: ['alice', 'bob', 'carol'] });
  const img = writeFile(site.imageDir, 'img.tgz', 'image\n');
  server = await startEngine(site.config, { port: 0, logger: silentLogger });
  const add = (user: string, admin: boolean, name: string, vis: string, d?: string) =>
    addEnvironment(
      server.ctx,
      { name: user, admin },
      { description: desc(name, vis, d).replace('IMG', img), file: `${name}.yaml`, uploads: [] },
    );
  await add('alice', false, 'alice-private', 'private');
  await add('alice', false, 'alice-shared', 'shared');
  await add('deploy', true, 'ref-env', 'public', 'public reference');
  await add('bob', false, 'ref-env', 'private', 'bob own copy');
});

afterAll(async () => {
  await server?.close();
  site?.cleanup();
});

const names = (stdout: string) =>
  stdout
    .split('\n')
    .slice(2)
    .filter(Boolean)
    .map((l) => l.split(/\s+/).slice(0, 3).join(' '));

describe('visibility between three users', () => {
  it('alice sees her own environments and the public ones', async () => {
    const r = await run('kaenv3', ['-l'], { env: site.envFor('alice', server.url) });
    expect(names(r.stdout)).toEqual(['alice-private 1 alice', 'alice-shared 1 alice', 'ref-env 1 deploy']);
  });

  it("bob sees alice's shared environment only when naming her, never her private one", async () => {
    const env = site.envFor('bob', server.url);
    expect(names((await run('kaenv3', ['-l'], { env })).stdout)).toEqual([
      'ref-env 1 bob',
      'ref-env 1 deploy',
    ]);
    expect(names((await run('kaenv3', ['-l', '-u', 'alice'], { env })).stdout)).toEqual([
      'alice-shared 1 alice',
    ]);
    const shared = await run('kaenv3', ['-p', 'alice-shared', '-u', 'alice'], { env });
    expect(shared.code).toBe(0);
    expect(shared.stdout).toContain('name: alice-shared');
    const noU = await run('kaenv3', ['-p', 'alice-shared'], { env });
    expect(noU.code).toBe(4);
  });

  it("another user's private environment gets the same answer as a missing one", async () => {
    const env = site.envFor('carol', server.url);
    const priv = await run('kaenv3', ['-p', 'alice-private', '-u', 'alice'], { env });
    const missing = await run('kaenv3', ['-p', 'alice-nothing', '-u', 'alice'], { env });
    expect(priv.code).toBe(4);
    expect(missing.code).toBe(4);
    expect(priv.stderr.replace('alice-private', 'X')).toBe(missing.stderr.replace('alice-nothing', 'X'));
    const del = await run('kaenv3', ['-d', 'alice-private', '-u', 'alice'], { env });
    expect(del.code).toBe(4);
    expect(del.stderr).toContain('you cannot delete the environments of user alice [KAPLOY_RIGHTS]');
    expect(server.ctx.store.environments.exists('alice', 'alice-private', 1)).toBe(true);
  });

  it('lookup without -u takes the caller own environment first, then the public one', async () => {
    const bob = await run('kaenv3', ['-p', 'ref-env'], { env: site.envFor('bob', server.url) });
    expect(bob.stdout).toContain('description: bob own copy');
    const carol = await run('kaenv3', ['-p', 'ref-env'], { env: site.envFor('carol', server.url) });
    expect(carol.stdout).toContain('description: public reference');
  });

  it('admins see private environments when they name the owner', async () => {
    const r = await run('kaenv3', ['-l', '-u', 'alice'], { env: site.envFor('admin', server.url) });
    expect(names(r.stdout)).toEqual(['alice-private 1 alice', 'alice-shared 1 alice']);
  });

  it('a non-admin cannot add a public environment, and nothing is recorded', async () => {
    const f = writeFile(
      site.dir,
      'pub.yaml',
      desc('sneaky', 'public').replace('server://IMG', `server://${site.imageDir}/img.tgz`),
    );
    const r = await run('kaenv3', ['-a', f], { env: site.envFor('carol', server.url) });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(
      "only administrators can make an environment public: remove the visibility line or set it to 'shared' or 'private' [KAPLOY_RIGHTS]",
    );
    expect(server.ctx.store.environments.find({ name: 'sneaky' })).toEqual([]);
    const valid = desc('sneaky', 'public').replace('server://IMG', `server://${site.imageDir}/img.tgz`);
    await expect(
      addEnvironment(
        server.ctx,
        { name: 'carol', admin: false },
        { description: valid, file: 'x', uploads: [] },
      ),
    ).rejects.toMatchObject({
      code: 'KAPLOY_RIGHTS',
    });
  });
});
