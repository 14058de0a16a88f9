import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveEnvironmentForDeploy } from '../../src/client/environments/environments.js';
import { silentLogger } from '../../src/common/logger.js';
import { resolveImage } from '../../src/engine/environments/resolve-image.js';
import { type RunningServer, startEngine } from '../../src/engine/main.js';
import { run } from './helpers/run.js';
import { makeSite, type TestSite, writeFile } from './helpers/site.js';

const md5 = (b: string | Buffer) => createHash('md5').update(b).digest('hex');

let site: TestSite;
let server: RunningServer;
const IMAGE = 'squeeze image bytes\n';

beforeAll(async () => {
  site = makeSite({ users: ['alice'] });
  writeFile(site.imageDir, 'squeeze-x64-base-1.1.tgz', IMAGE);
  writeFile(site.imageDir, 'post.tgz', 'postinstall bytes\n');
  writeFile(
    site.dir,
    'ref/squeeze.env',
    [
      'name : squeeze-x64-base',
      'version : 5',
      'description : https://www.grid5000.fr/squeeze-x64-base',
      'author : support-staff@example.org',
      `tarball : ${site.imageDir}/squeeze-x64-base-1.1.tgz|tgz`,
      `postinstall : ${site.imageDir}/post.tgz|tgz|traitement.ash /rambin`,
      'kernel : /boot/vmlinuz-2.6.32-5-amd64',
      'initrd : /boot/initrd.img-2.6.32-5-amd64',
      'fdisktype : 83',
      'filesystem : ext3',
      'environment_kind : linux',
      'visibility : public',
      'demolishing_env : 0',
      '',
    ].join('\n'),
  );
  writeFile(
    site.dir,
    'ref/bookworm.yaml',
    [
      'name: debian12-min',
      'version: 2',
      'description: Debian 12 minimal',
      'author: deploy@example.org',
      'visibility: public',
      'destructive: false',
      'os: linux',
      'image:',
      `  file: server://${site.imageDir}/squeeze-x64-base-1.1.tgz`,
      '  kind: tar',
      '  compression: zstd',
      'boot:',
      '  kernel: /vmlinuz',
      '  initrd: /initrd.img',
      '  kernel_params: console=ttyS0',
      'filesystem: ext4',
      'partition_type: 0x83',
      '',
    ].join('\n'),
  );
  server = await startEngine(site.config, { port: 0, logger: silentLogger });
  // Reference environments are recorded by the site admin, as `deploy`, with the real command.
  const seeded = await run(
    'kaploy',
    [
      'server',
      'add-env',
      '--config',
      site.configFile,
      `${site.dir}/ref/squeeze.env`,
      `${site.dir}/ref/bookworm.yaml`,
    ],
    {
      env: { ...process.env, KAPLOY_LOG_LEVEL: 'silent' },
    },
  );
  expect(seeded.stderr).toBe('');
  expect(seeded.stdout).toContain('added squeeze-x64-base:5 for deploy');
});

afterAll(async () => {
  await server?.close();
  site?.cleanup();
});

describe('environments: the tutorial round trip', () => {
  it('lists the public reference environments in Kadeploy columns', async () => {
    const r = await run('kaenv3', ['-l'], { env: site.envFor('alice', server.url) });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'Name                  Version User        Description',
        '####                  ####### ####        ###########',
        'debian12-min          2       deploy      Debian 12 minimal',
        'squeeze-x64-base      5       deploy      https://www.grid5000.fr/squeeze-x64',
        '',
      ].join('\n'),
    );
  });

  it('prints, edits, re-adds in key/value format and deploys anonymously', async () => {
    const env = site.envFor('alice', server.url);
    const printed = await run('kaenv3', ['-p', 'squeeze-x64-base', '-u', 'deploy'], { env });
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain(`tarball : ${site.imageDir}/squeeze-x64-base-1.1.tgz|tgz`);
    expect(printed.stdout).toContain(`# md5 ${md5(IMAGE)} ${site.imageDir}/squeeze-x64-base-1.1.tgz`);
    expect(printed.stdout).toContain('visibility : public');

    // The user's own image, on the frontend (a local file: the client uploads it).
    const mine = 'my customised squeeze\n';
    writeFile(site.dir, 'home/alice/mysqueeze.tgz', mine);
    const edited = printed.stdout
      .split('\n')
      .filter((l) => !l.startsWith('visibility'))
      .map((l) =>
        l
          .replace(/^name : .*/, 'name : mysqueeze-x64-base')
          .replace(/^description : .*/, 'description : my squeeze')
          .replace(/^author : .*/, 'author : alice@example.org')
          .replace(/^tarball : .*/, 'tarball : mysqueeze.tgz|tgz'),
      )
      .join('\n');
    const home = path.join(site.dir, 'home/alice');
    writeFileSync(path.join(home, 'mysqueeze-x64-base.env'), edited);

    // kadeploy3 -a FILE --dry-run: the resolved description, nothing recorded.
    const client = site.client('alice', server.url);
    const anon = await resolveEnvironmentForDeploy(client, { file: 'mysqueeze-x64-base.env', cwd: home });
    expect(anon.anonymous).toBe(true);
    expect(anon.environment.image).toMatchObject({
      file: path.join(home, 'mysqueeze.tgz'),
      md5: md5(mine),
      source: 'upload',
    });
    expect(anon.environment.visibility).toBe('private');
    // The same through the real kadeploy3, on the job's node file (rights as the OAR prologue gives).
    server.ctx.store.rights.add([{ user: 'alice', node: 'node-1.testsite', partition: '*' }]);
    writeFileSync(path.join(home, 'OAR_NODEFILE'), 'node-1.testsite\nnode-1.testsite\n');
    const dry = await run('kadeploy3', ['-f', 'OAR_NODEFILE', '-a', 'mysqueeze-x64-base.env', '--dry-run'], {
      env,
      cwd: home,
    });
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`# md5 ${md5(mine)} ${path.join(home, 'mysqueeze.tgz')}`);
    expect(dry.stdout).toContain(`tarball : ${path.join(home, 'mysqueeze.tgz')}|tgz`);
    expect(dry.stdout).toContain('name : mysqueeze-x64-base');
    const stillAbsent = await run('kaenv3', ['-p', 'mysqueeze-x64-base'], { env });
    expect(stillAbsent.code).toBe(4);

    const added = await run('kaenv3', ['-a', 'mysqueeze-x64-base.env'], { env, cwd: home });
    expect(added.stderr).toBe('');
    expect(added.stdout).toBe('Environment mysqueeze-x64-base version 5 added for user alice\n');

    const again = await run('kaenv3', ['-p', 'mysqueeze-x64-base'], { env });
    expect(again.stdout).toContain(`tarball : ${path.join(home, 'mysqueeze.tgz')}|tgz`);
    expect(again.stdout).toContain('visibility : private');
    expect(again.stdout).toContain('postinstall : ');

    // The recorded image is the uploaded one, verified.
    const stored = server.ctx.store.environments.find({ user: 'alice', name: 'mysqueeze-x64-base' })[0];
    expect(stored).toBeDefined();
    const resolved = await resolveImage(server.ctx, stored!);
    expect(md5(readFileSync(resolved.path))).toBe(md5(mine));

    // Own environments come first in the list without -u, then public ones.
    const list = await run('kaenv3', ['-l'], { env });
    expect(list.stdout).toContain('mysqueeze-x64-base    5       alice       my squeeze');
    const byName = await resolveEnvironmentForDeploy(client, { name: 'mysqueeze-x64-base' });
    expect(byName).toMatchObject({ anonymous: false, environment: { user: 'alice', version: 5 } });
    await client.close();
  });

  it('prints YAML environments as YAML and re-adds them', async () => {
    const env = site.envFor('alice', server.url);
    const printed = await run('kaenv3', ['-p', 'debian12-min', '-u', 'deploy'], { env });
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain('compression: zstd');
    expect(printed.stdout).toContain('kernel_params: console=ttyS0');
    expect(printed.stdout).toContain('partition_type: 131');
    const edited = printed.stdout
      .replace('name: debian12-min', 'name: my-debian')
      .replace('visibility: public', 'visibility: shared');
    const input = await run('kaenv3', ['-a', '-'], { env, input: edited });
    expect(input.stdout).toBe('Environment my-debian version 2 added for user alice\n');
    const back = await run('kaenv3', ['-p', 'my-debian'], { env });
    expect(back.stdout.replace(/^# md5 .*\n/gm, '')).toBe(edited.replace(/^# md5 .*\n/gm, ''));
    const dup = await run('kaenv3', ['-a', '-'], { env, input: edited });
    expect(dup.code).toBe(4);
    expect(dup.stderr).toContain('(kaenv3 -d) [KAPLOY_EXISTS]');
  });

  it('keeps versions apart: -s, --env-version, delete', async () => {
    const env = site.envFor('alice', server.url);
    const v2 = (await run('kaenv3', ['-p', 'my-debian'], { env })).stdout.replace('version: 2', 'version: 3');
    expect((await run('kaenv3', ['-a', '-'], { env, input: v2 })).code).toBe(0);
    const latest = await run('kaenv3', ['-l', 'my-%'], { env });
    expect(latest.stdout.split('\n').filter((l) => l.startsWith('my-debian'))).toEqual([
      'my-debian             3       alice       Debian 12 minimal',
    ]);
    const all = await run('kaenv3', ['-l', 'my-%', '-s'], { env });
    expect(all.stdout.split('\n').filter((l) => l.startsWith('my-debian')).length).toBe(2);
    const old = await run('kaenv3', ['-p', 'my-debian', '--env-version', '2'], { env });
    expect(old.stdout).toContain('version: 2');
    const del = await run('kaenv3', ['-d', 'my-debian', '--env-version', '3'], { env });
    expect(del.stdout).toBe('Environment my-debian version 3 of user alice deleted\n');
    const gone = await run('kaenv3', ['-p', 'my-debian', '--env-version', '3'], { env });
    expect(gone.code).toBe(4);
    expect(gone.stderr).toContain("The environment 'my-debian' version 3 does not exist");
  });

  it('toggles the destructive tag and refuses public visibility to non-admins', async () => {
    const env = site.envFor('alice', server.url);
    const t = await run('kaenv3', ['--toggle-destructive-tag', 'my-debian'], { env });
    expect(t.stdout).toContain('destructive tag set to true');
    const p = await run('kaenv3', ['--set-visibility-tag', 'my-debian', '-t', 'public'], { env });
    expect(p.code).toBe(4);
    expect(p.stderr).toContain('only administrators can make an environment public');
    const admin = await run('kaenv3', ['--set-visibility-tag', 'my-debian', '-u', 'alice', '-t', 'public'], {
      env: site.envFor('admin', server.url),
    });
    expect(admin.stdout).toContain('visibility set to public');
  });
});
