import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/logger.js';
import { type RunningServer, startEngine } from '../../src/engine/main.js';
import { run } from './helpers/run.js';
import { ADMIN, makeSite, type TestSite, writeFile } from './helpers/site.js';

let site: TestSite;
let server: RunningServer;

beforeAll(async () => {
  site = makeSite({ users: ['alice'] });
  writeFile(site.imageDir, 'ok.tgz', 'ok\n');
  writeFile(site.dir, 'secret/shadow', 'root:x\n');
  mkdirSync(path.join(site.imageDir, 'sub'));
  symlinkSync(path.join(site.dir, 'secret/shadow'), path.join(site.imageDir, 'sub/escape.tgz'));
  server = await startEngine(site.config, { port: 0, logger: silentLogger });
});

afterAll(async () => {
  await server?.close();
  site?.cleanup();
});

const envText = (file: string) =>
  `name: bad\nos: linux\nimage: {file: "${file}", kind: tar, compression: gzip}\nboot: {kernel: /vmlinuz}\nfilesystem: ext4\n`;
const count = () => server.ctx.store.environments.find({}).length;

describe('bad input: a clear error, nothing changed', () => {
  it('kaenv3 reports a malformed description with its file and line (exit 3)', async () => {
    const f = writeFile(site.dir, 'broken.env', 'name : x\ntarball : /a.tgz|tgz\nkernel /vmlinuz\n');
    const r = await run('kaenv3', ['-a', f], { env: site.envFor('alice', server.url) });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      `kaenv3: ${f}:3: (line): expected 'key : value', got 'kernel /vmlinuz' [KAPLOY_FILE]\n`,
    );
    expect(count()).toBe(0);
  });

  it('kaenv3 prints warnings for unknown keys and still adds', async () => {
    const f = writeFile(site.dir, 'warn.yaml', `${envText(`${site.imageDir}/ok.tgz`)}name2: typo\n`);
    const r = await run('kaenv3', ['-a', f], { env: site.envFor('alice', server.url) });
    expect(r.stderr).toBe(`Warning: ${f}:6: name2: Unused field (unknown key, ignored)\n`);
    expect(r.code).toBe(0);
    expect((await run('kaenv3', ['-d', 'bad'], { env: site.envFor('alice', server.url) })).code).toBe(0);
  });

  it('refuses server paths outside the image directories, by traversal or symlink', async () => {
    const alice = site.client('alice', server.url);
    const cases: [string, string][] = [
      [`server://${site.imageDir}/../secret/shadow`, "is outside the site's image directories"],
      [
        `${site.imageDir}/../secret/shadow`,
        "is neither an http(s) URL, nor a path in the site's image directories",
      ],
      [`server://${site.imageDir}/sub/escape.tgz`, "is outside the site's image directories"],
      [`server://${site.imageDir}/missing.tgz`, 'does not exist on the server'],
      ['/etc/passwd', 'is neither an http(s) URL'],
      ['relative/img.tgz', 'is neither an http(s) URL'],
    ];
    for (const [file, msg] of cases) {
      const p = alice.request('POST', '/environments', {
        body: { description: envText(file), file: 'x.yaml' },
      });
      await expect(p, file).rejects.toMatchObject({
        code: 'KAPLOY_FILE',
        message: expect.stringContaining(msg),
      });
    }
    expect(count()).toBe(0);
    await alice.close();
  });

  it('kaenv3 refuses a local image it cannot read, before sending anything', async () => {
    const f = writeFile(site.dir, 'nolocal.yaml', envText('no/such/file.tgz'));
    const r = await run('kaenv3', ['-a', f], { env: site.envFor('alice', server.url), cwd: site.dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      `cannot read the local file 'no/such/file.tgz' (${site.dir}/no/such/file.tgz): ENOENT`,
    );
    expect(count()).toBe(0);
  });

  it('unknown environments and versions', async () => {
    const env = site.envFor('alice', server.url);
    const r = await run('kaenv3', ['-p', 'nothing'], { env });
    expect(r.code).toBe(4);
    expect(r.stderr).toBe(
      "kaenv3: The environment 'nothing' does not exist (or is not visible to you); see kaenv3 -l [KAPLOY_ENVIRONMENT]\n",
    );
    const v = await run('kaenv3', ['-p', 'nothing', '--env-version', '7', '-u', 'deploy'], { env });
    expect(v.stderr).toContain("The environment 'nothing' version 7 of user deploy does not exist");
    expect((await run('kaenv3', ['-d', 'nothing'], { env })).code).toBe(4);
    expect((await run('kaenv3', ['--toggle-destructive-tag', 'nothing'], { env })).code).toBe(4);
  });

  it('bad command lines exit 3 without calling the server', async () => {
    const env = site.envFor('alice', server.url);
    expect((await run('kaenv3', ['-p', 'x', '--env-version', '1; rm'], { env })).stderr).toContain(
      "invalid --env-version '1; rm'",
    );
    expect((await run('kaenv3', ['-l', '-p', 'x'], { env })).stderr).toContain(
      'give only one action at a time',
    );
    expect((await run('kaenv3', [], { env })).code).toBe(3);
    expect((await run('kaenv3', ['-l', '-u', '../deploy'], { env })).stderr).toContain(
      "invalid user name '../deploy'",
    );
    expect((await run('kaenv3', ['--set-visibility-tag', 'x', '-t', 'world'], { env })).stderr).toContain(
      "invalid visibility tag 'world'",
    );
    expect((await run('kaenv3', ['-a', '/no/such.env'], { env })).stderr).toContain(
      'cannot read the description file /no/such.env: ENOENT',
    );
    expect((await run('kaenv3', ['-l', 'a/b'], { env })).code).toBe(3);
  });

  it('node names with shell or path characters and unknown nodes', async () => {
    const alice = site.client('alice', server.url);
    await expect(alice.request('GET', `/nodes/${encodeURIComponent('node-1;reboot')}`)).rejects.toMatchObject(
      { code: 'KAPLOY_NODE_LIST' },
    );
    await expect(alice.request('GET', `/nodes/${encodeURIComponent('node..x')}`)).rejects.toMatchObject({
      code: 'KAPLOY_NODE_LIST',
    });
    await expect(alice.request('GET', '/nodes/node-99.testsite')).rejects.toMatchObject({
      code: 'KAPLOY_NODE_LIST',
      message: 'unknown node node-99.testsite on site testsite',
    });
    expect(await alice.request('GET', '/nodes', { query: { list: true } })).toEqual([
      'node-1.testsite',
      'node-2.testsite',
      'node-3.testsite',
      'node-4.testsite',
    ]);
    expect(await alice.request('GET', '/nodes/node-2.testsite')).toMatchObject({
      name: 'node-2.testsite',
      state: 'prod_env',
      cluster: 'c1',
    });
    await alice.close();
  });

  it('--vlan is refused before any node is touched: the site has no VLAN driver', async () => {
    const r = await run('kadeploy3', ['-e', 'no-such-env-needed', '-m', 'node-1.testsite', '--vlan', '3'], {
      // The site's admin, who has rights on every node: the refusal is the VLAN's, not the rights'.
      env: site.envFor(ADMIN, server.url),
    });
    // Refused (4) with the reason, no operation started: the node keeps its state.
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(
      /--vlan 3: no VLAN driver is configured on site testsite; nothing was done \[KAPLOY_VLAN\]/,
    );
    expect(server.ctx.store.nodes.get('node-1.testsite')?.state).toBe('prod_env');
  });

  it('request bodies are validated by schema: unknown fields, wrong types, oversized values', async () => {
    const alice = site.client('alice', server.url);
    await expect(
      alice.request('POST', '/environments', { body: { description: { text: 'x' } } }),
    ).rejects.toMatchObject({ code: 'KAPLOY_OPTION' });
    await expect(
      alice.request('POST', '/environments', { body: { description: 'x'.repeat(300_000) } }),
    ).rejects.toMatchObject({
      code: 'KAPLOY_OPTION',
    });
    await expect(
      alice.request('POST', '/environments', {
        body: { description: 'x', uploads: [{ ref: 'a', path: 'relative', md5: 'x' }] },
      }),
    ).rejects.toMatchObject({ code: 'KAPLOY_OPTION' });
    await expect(
      alice.request('GET', '/environments', { query: { name: "x' OR 1=1" } }),
    ).rejects.toMatchObject({ code: 'KAPLOY_OPTION' });
    await expect(alice.request('GET', '/environments/resolve')).rejects.toMatchObject({
      code: 'KAPLOY_OPTION',
    });
    await expect(alice.request('GET', '/files/not-a-checksum')).rejects.toMatchObject({
      code: 'KAPLOY_OPTION',
    });
    await expect(alice.request('DELETE', '/environments/Alice;id/x')).rejects.toMatchObject({
      code: 'KAPLOY_OPTION',
    });
    await expect(
      alice.request('PUT', '/environments/alice/x', { body: { visibility: 'world' } }),
    ).rejects.toMatchObject({ code: 'KAPLOY_OPTION' });
    expect(count()).toBe(0);
    await alice.close();
  });

  it('PUT /files with a JSON or form body is a 415, not a 500 (and nothing is stored)', async () => {
    const token = readFileSync(path.join(site.dir, 'tokens', 'alice'), 'utf8').trim();
    const sum = 'd41d8cd98f00b204e9800998ecf8427e';
    for (const [type, body] of [
      ['application/json', '{"data":"x"}'],
      ['text/plain', 'abc'],
    ] as const) {
      const r = await fetch(`${server.url}/files/${sum}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': type },
        body,
      });
      expect(r.status).toBe(415);
      expect(await r.json()).toMatchObject({
        error: { code: 'KAPLOY_OPTION', message: expect.stringContaining('application/octet-stream') },
      });
    }
    expect(server.ctx.files.has(sum)).toBe(false);
  });
});
