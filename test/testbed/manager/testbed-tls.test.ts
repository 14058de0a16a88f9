import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadSiteConfig } from '../../../src/common/site-config.js';
import type { TestbedState } from '../../../src/testbed/manager/testbed-state.js';
import { kaploy, upSmallSite } from './helpers.js';

/**
 * `kaploy testbed up --tls` (issue 14, item 11 on the virtual site): the engine serves HTTPS with a
 * certificate of the site's own CA, made with openssl; the site's clients verify it and deploy
 * through it; plain HTTP is refused.
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-tb-tls-'));
const site = `s${process.pid}`;
let state: TestbedState;

const cli = (name: string) =>
  path.resolve(import.meta.dirname, '..', '..', '..', 'dist', 'cli', `${name}.js`);
const run = (name: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [cli(name), ...args],
      {
        timeout: 180_000,
        cwd: dir,
        env: {
          ...process.env,
          KAPLOY_CLIENT_CONFIG: path.join(dir, 'client.yaml'),
          KAPLOY_TOKEN_FILE: path.join(dir, 'tokens', os.userInfo().username),
          ...env,
        },
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 99) : 0, stdout, stderr }),
    );
  });

beforeAll(async () => {
  const up = await upSmallSite({ dir, site, nodes: 1, extra: ['--tls'] });
  state = up.state;
  const r = up.result;
  expect(r.stdout).toContain(`engine       https://127.0.0.1:${state.enginePort}`);
}, 240_000);

afterAll(async () => {
  await kaploy(['testbed', 'down', '--dir', dir]);
  rmSync(dir, { recursive: true, force: true });
});

describe('kaploy testbed up --tls', () => {
  it('is documented by --help', async () => {
    const h = await kaploy(['testbed', 'up', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/--tls\s+serve the engine over HTTPS/);
  });

  it('writes a CA and an engine certificate for 127.0.0.1/localhost, keys owner-only, and configures engine and client', () => {
    const tls = path.join(dir, 'tls');
    expect(statSync(tls).mode & 0o777).toBe(0o700);
    for (const k of ['ca.key', 'engine.key']) expect(statSync(path.join(tls, k)).mode & 0o777).toBe(0o600);
    const ca = new X509Certificate(readFileSync(path.join(tls, 'ca.pem')));
    const cert = new X509Certificate(readFileSync(path.join(tls, 'engine.pem')));
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkHost('localhost')).toBe('localhost');

    const config = loadSiteConfig(path.join(dir, 'site.yaml'));
    expect(config.listen.tls).toEqual({
      certFile: path.join(tls, 'engine.pem'),
      keyFile: path.join(tls, 'engine.key'),
    });
    const client = parse(readFileSync(path.join(dir, 'client.yaml'), 'utf8'));
    expect(client.servers[site]).toEqual({
      url: `https://127.0.0.1:${state.enginePort}`,
      ca: path.join(tls, 'ca.pem'),
    });
  });

  it('kanodes3 and kadeploy3 work over HTTPS, verified against the site CA', async () => {
    const nodes = await run('kanodes3', ['-s']);
    expect(nodes.code, nodes.stderr).toBe(0);
    expect(nodes.stdout).toContain(`node-1.${site}`);
    const d = await run('kadeploy3', ['-e', 'tiny-x64-base', '-u', 'deploy', '-m', `node-1.${site}`]);
    expect(d.code, d.stdout + d.stderr).toBe(0);
    expect(d.stdout).toContain('The deployment is successful on nodes');
  }, 200_000);

  it('refuses plain HTTP, and a client not given the CA refuses the engine', async () => {
    // A plain HTTP request to the engine's port gets no HTTP answer.
    const plain = await new Promise<string>((resolve) => {
      const req = httpRequest({
        host: '127.0.0.1',
        port: state.enginePort,
        path: '/version',
        timeout: 10_000,
      });
      req.on('response', (res) => resolve(`HTTP ${res.statusCode}`));
      req.on('error', (e) => resolve(`error: ${e.message}`));
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.end();
    });
    expect(plain).toMatch(/^error: /);
    const other = path.join(dir, 'client-http.yaml');
    writeFileSync(
      other,
      `default: ${site}\nservers:\n  ${site}: {url: 'http://127.0.0.1:${state.enginePort}'}\n`,
    );
    const viaHttp = await run('kanodes3', ['-s'], { KAPLOY_CLIENT_CONFIG: other });
    expect(viaHttp.code).toBe(5);
    const noCa = path.join(dir, 'client-noca.yaml');
    writeFileSync(
      noCa,
      `default: ${site}\nservers:\n  ${site}: {url: 'https://127.0.0.1:${state.enginePort}'}\n`,
    );
    const unverified = await run('kanodes3', ['-s'], { KAPLOY_CLIENT_CONFIG: noCa });
    expect(unverified.code).toBe(5);
    expect(unverified.stderr).toContain('not trusted');
  });
});
