import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/logger.js';
import { resolveEnvironmentFiles, resolveImage } from '../../src/engine/environments/resolve-image.js';
import { type RunningServer, startEngine } from '../../src/engine/main.js';
import { run } from './helpers/run.js';
import { makeSite, type TestSite, writeFile } from './helpers/site.js';

const md5 = (b: string | Buffer) => createHash('md5').update(b).digest('hex');

let site: TestSite;
let server: RunningServer;
let http: Server;
let depot: string;
const files = new Map<string, string>();

beforeAll(async () => {
  site = makeSite({ users: ['alice'] });
  server = await startEngine(site.config, { port: 0, logger: silentLogger });
  // A web depot for http images (the multi-site tutorial's public.site/~login/).
  http = createServer((req, res) => {
    const body = files.get(req.url ?? '');
    if (body === undefined) res.writeHead(404).end();
    else res.writeHead(200).end(body);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  depot = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await server?.close();
  await new Promise((r) => http?.close(r));
  site?.cleanup();
});

const yamlEnv = (name: string, file: string, post?: string) =>
  [
    `name: ${name}`,
    'os: linux',
    'image:',
    `  file: ${file}`,
    '  kind: tar',
    '  compression: gzip',
    ...(post ? ['postinstalls:', `  - archive: ${post}`, '    compression: gzip', '    script: run.sh'] : []),
    'boot: {kernel: /vmlinuz}',
    'filesystem: ext4',
    '',
  ].join('\n');

function stored(name: string) {
  const e = server.ctx.store.environments.find({ user: 'alice', name }).at(-1);
  if (!e) throw new Error(`no ${name}`);
  return e;
}

describe('image checksums', () => {
  it('records the MD5 of a server image, refuses a changed one before use, and updates it on request', async () => {
    const env = site.envFor('alice', server.url);
    const img = writeFile(site.imageDir, 'srv.tgz', 'version 1\n');
    const post = writeFile(site.imageDir, 'post.tgz', 'post 1\n');
    const f = writeFile(site.dir, 'srv.yaml', yamlEnv('srv-env', img, `server://${post}`));
    expect((await run('kaenv3', ['-a', f], { env })).code).toBe(0);
    expect(stored('srv-env').image).toMatchObject({ md5: md5('version 1\n'), source: 'server' });
    expect((await resolveImage(server.ctx, stored('srv-env'))).path).toBe(img);

    writeFileSync(img, 'version 2, rebuilt\n');
    await expect(resolveImage(server.ctx, stored('srv-env'))).rejects.toMatchObject({
      code: 'KAPLOY_CHECKSUM',
      message: `Checksum of the file '${img}' does not match (an update is necessary)`,
    });
    const upd = await run('kaenv3', ['--update-image-checksum', 'srv-env'], { env });
    expect(upd.stdout).toBe(
      `Environment srv-env version 1 of user alice: image checksum updated (${md5('version 2, rebuilt\n')})\n`,
    );
    expect((await resolveImage(server.ctx, stored('srv-env'))).md5).toBe(md5('version 2, rebuilt\n'));

    writeFileSync(post, 'post 2\n');
    await expect(resolveEnvironmentFiles(server.ctx, stored('srv-env'))).rejects.toMatchObject({
      code: 'KAPLOY_CHECKSUM',
    });
    expect((await run('kaenv3', ['--update-postinstalls-checksum', 'srv-env'], { env })).code).toBe(0);
    expect((await resolveEnvironmentFiles(server.ctx, stored('srv-env'))).postinstalls[0]?.md5).toBe(
      md5('post 2\n'),
    );
  });

  it('downloads http images once, records their MD5 and detects a changed depot file', async () => {
    files.set('/~alice/web.tgz', 'web image\n');
    const env = site.envFor('alice', server.url);
    const f = writeFile(
      site.dir,
      'web.env',
      `name : web-env\ntarball : ${depot}/~alice/web.tgz|tgz\nkernel : /vmlinuz\nfdisktype : 83\nfilesystem : ext4\n`,
    );
    expect((await run('kaenv3', ['-a', f], { env })).stderr).toBe('');
    const e = stored('web-env');
    expect(e.image).toMatchObject({
      md5: md5('web image\n'),
      source: 'url',
      file: `${depot}/~alice/web.tgz`,
    });
    // Cached: served from the engine's cache even if the depot is down.
    files.delete('/~alice/web.tgz');
    expect((await resolveImage(server.ctx, e)).md5).toBe(md5('web image\n'));
    // Not cached any more and changed on the depot: refused.
    rmSync(server.ctx.files.path(md5('web image\n')));
    files.set('/~alice/web.tgz', 'someone replaced it\n');
    await expect(resolveImage(server.ctx, e)).rejects.toMatchObject({ code: 'KAPLOY_CHECKSUM' });
    expect(server.ctx.files.has(md5('someone replaced it\n'))).toBe(false);
  });

  it('uploads: content must match the checksum it is sent under, and only the uploader may use it', async () => {
    const alice = site.client('alice', server.url);
    const bob = site.client('admin', server.url);
    await expect(
      alice.upload(`/files/${md5('claimed')}`, Readable.from([Buffer.from('actual')])),
    ).rejects.toMatchObject({
      code: 'KAPLOY_CHECKSUM',
    });
    expect(server.ctx.files.has(md5('claimed'))).toBe(false);
    expect(await alice.upload(`/files/${md5('mine')}`, Readable.from([Buffer.from('mine')]))).toEqual({
      md5: md5('mine'),
      size: 4,
    });
    // The admin knows the checksum but never sent the bytes: the engine will not let it be used.
    const body = {
      description: yamlEnv('stolen', '/home/alice/mine.tgz'),
      file: 'x',
      uploads: [{ ref: '/home/alice/mine.tgz', path: '/home/alice/mine.tgz', md5: md5('mine') }],
    };
    await expect(bob.request('POST', '/environments/anonymous', { body })).rejects.toMatchObject({
      code: 'KAPLOY_FILE',
    });
    expect(await bob.request('GET', `/files/${md5('mine')}`)).toEqual({ md5: md5('mine'), present: false });
    await alice.close();
    await bob.close();
  });
});
