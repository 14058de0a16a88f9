import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/logger.js';
import { type RunningServer, startEngine } from '../../src/engine/main.js';
import { checkRights, hasRight } from '../../src/engine/rights/check.js';
import { run } from './helpers/run.js';
import { makeSite, type TestSite, writeFile } from './helpers/site.js';

let site: TestSite;
let server: RunningServer;

beforeAll(async () => {
  site = makeSite({ users: ['alice', 'bob'], nodes: 4 });
  server = await startEngine(site.config, { port: 0, logger: silentLogger });
});

afterAll(async () => {
  await server?.close();
  site?.cleanup();
});

describe('rights and karights3', () => {
  it('an admin grants rights on nodes and partitions; checkRights sees them', async () => {
    const admin = site.envFor('admin', server.url);
    const nodefile = writeFile(
      site.dir,
      'nodes',
      'node-3.testsite\nnode-3.testsite\n# comment\nnode-4.testsite\n',
    );
    const a = await run(
      'karights3',
      ['-a', '-u', 'alice', '-m', 'node-[1-2].testsite', '-f', nodefile, '-p', '/dev/sda3'],
      { env: admin },
    );
    expect(a.stderr).toBe('');
    expect(a.stdout).toBe('4 right(s) added for user alice\n');
    const b = await run('karights3', ['-a', '-u', 'bob', '-m', 'node-1.testsite', '-p', '*'], { env: admin });
    expect(b.code).toBe(0);
    expect(
      checkRights(server.ctx.store, 'alice', ['node-1.testsite', 'node-4.testsite'], '/dev/sda3'),
    ).toEqual({
      allowed: ['node-1.testsite', 'node-4.testsite'],
      denied: [],
    });
    expect(hasRight(server.ctx.store, 'alice', 'node-1.testsite', '/dev/sda2')).toBe(false);
    expect(hasRight(server.ctx.store, 'bob', 'node-1.testsite', '/dev/sda2')).toBe(true);
    expect(
      checkRights(server.ctx.store, 'bob', ['node-1.testsite', 'node-2.testsite'], '/dev/sda3').denied,
    ).toEqual(['node-2.testsite']);

    const l = await run('karights3', ['-l', '-u', 'alice'], { env: admin });
    expect(l.stdout).toBe(
      [
        'alice:',
        '  node-1.testsite:',
        '    - /dev/sda3',
        '  node-2.testsite:',
        '    - /dev/sda3',
        '  node-3.testsite:',
        '    - /dev/sda3',
        '  node-4.testsite:',
        '    - /dev/sda3',
        '',
      ].join('\n'),
    );
  });

  it('users read their own rights only; they cannot change any', async () => {
    const alice = site.envFor('alice', server.url);
    const own = await run('karights3', ['-l'], { env: alice });
    expect(own.stdout).toContain('alice:');
    expect(own.stdout).not.toContain('bob');
    const other = await run('karights3', ['-l', '-u', 'bob'], { env: alice });
    expect(other.code).toBe(4);
    expect(other.stderr).toContain('[KAPLOY_RIGHTS]');
    const grant = await run('karights3', ['-a', '-u', 'alice', '-m', '*', '-p', '*'], { env: alice });
    expect(grant.code).toBe(4);
    expect(grant.stderr).toContain('only site administrators can change rights');
    expect(hasRight(server.ctx.store, 'alice', 'node-1.testsite', '/dev/sda9')).toBe(false);
  });

  it("revoking rights ends the user's running operations on those nodes, and only those", async () => {
    const cancelled: string[] = [];
    const reg = (wid: string, user: string, nodes: string[]) =>
      server.ctx.operations.register({
        wid,
        kind: 'deploy',
        user,
        nodes,
        cancel: (reason) => cancelled.push(`${wid}:${reason}`),
      });
    const done1 = reg('D-1', 'alice', ['node-1.testsite', 'node-2.testsite']);
    const done2 = reg('D-2', 'alice', ['node-3.testsite']);
    const done3 = reg('D-3', 'bob', ['node-1.testsite']);
    const d = await run('karights3', ['-d', '-u', 'alice', '-m', 'node-2.testsite'], {
      env: site.envFor('admin', server.url),
    });
    expect(d.stdout).toBe('1 right(s) removed for user alice\nOperations cancelled (rights revoked): D-1\n');
    expect(cancelled).toEqual(['D-1:rights revoked']);
    expect(hasRight(server.ctx.store, 'alice', 'node-2.testsite')).toBe(false);
    expect(hasRight(server.ctx.store, 'alice', 'node-1.testsite')).toBe(true);
    for (const f of [done1, done2, done3]) f();
    expect(server.ctx.operations.list()).toEqual([]);
  });

  it('-o replaces the existing rights on the given nodes', async () => {
    const admin = site.envFor('admin', server.url);
    await run('karights3', ['-a', '-o', '-u', 'alice', '-m', 'node-1.testsite', '-p', '/dev/sda5'], {
      env: admin,
    });
    const rows = server.ctx.store.rights.list({ user: 'alice', nodes: ['node-1.testsite'] });
    expect(rows).toEqual([{ user: 'alice', node: 'node-1.testsite', partition: '/dev/sda5' }]);
  });

  it('refuses unknown nodes, shell characters and bad partitions, changing nothing', async () => {
    const admin = site.envFor('admin', server.url);
    const before = server.ctx.store.rights.list();
    const unknown = await run('karights3', ['-a', '-u', 'bob', '-m', 'node-9.testsite', '-p', '*'], {
      env: admin,
    });
    expect(unknown.code).toBe(3); // node-list errors are usage errors
    expect(unknown.stderr).toBe(
      'karights3: unknown node(s) on site testsite: node-9.testsite [KAPLOY_NODE_LIST]\n',
    );
    const shell = await run('karights3', ['-a', '-u', 'bob', '-m', 'node-1;rm -rf /', '-p', '*'], {
      env: admin,
    });
    expect(shell.code).toBe(3);
    expect(shell.stderr).toContain("invalid node name or range 'node-1;rm -rf /'");
    const part = await run('karights3', ['-a', '-u', 'bob', '-m', 'node-1.testsite', '-p', '../../etc'], {
      env: admin,
    });
    expect(part.code).toBe(3);
    expect(part.stderr).toContain("invalid partition '../../etc'");
    const user = await run('karights3', ['-a', '-u', 'Bob$(id)', '-m', 'node-1.testsite', '-p', '*'], {
      env: admin,
    });
    expect(user.code).toBe(3);
    const noPart = await run('karights3', ['-a', '-u', 'bob', '-m', 'node-1.testsite'], { env: admin });
    expect(noPart.code).toBe(3);
    const noFile = await run('karights3', ['-a', '-u', 'bob', '-f', '/no/such/nodes', '-p', '*'], {
      env: admin,
    });
    expect(noFile.stderr).toContain('cannot read the node file /no/such/nodes: ENOENT');
    const badFile = writeFile(site.dir, 'bad-nodes', 'node-1.testsite\nnode-2;id\n');
    const bf = await run('karights3', ['-a', '-u', 'bob', '-f', badFile, '-p', '*'], { env: admin });
    expect(bf.code).toBe(3);
    expect(bf.stderr).toContain(`${badFile}:2: invalid node name or range 'node-2;id'`);
    expect((await run('karights3', ['-d', '-o', '-u', 'bob', '-m', '*'], { env: admin })).stderr).toContain(
      '-o only goes with -a',
    );
    expect((await run('karights3', ['-a', '-d', '-u', 'bob', '-m', '*'], { env: admin })).code).toBe(3);
    // The API validates on its own, whatever the client.
    const client = site.client('admin', server.url);
    await expect(
      client.request('POST', '/rights', { body: { user: 'bob', nodes: ['a/../b'], partitions: ['*'] } }),
    ).rejects.toMatchObject({
      code: 'KAPLOY_OPTION',
    });
    await expect(
      client.request('POST', '/rights', {
        body: { user: 'bob', nodes: ['node-1.testsite'], partitions: ['*'], extra: 1 },
      }),
    ).rejects.toMatchObject({
      code: 'KAPLOY_OPTION',
    });
    await client.close();
    expect(server.ctx.store.rights.list()).toEqual(before);
  });
});
