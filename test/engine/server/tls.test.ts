import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ApiClient } from '../../../src/client/http-client.js';
import { silentLogger } from '../../../src/common/logger.js';
import { loadSiteConfig, type SiteConfig } from '../../../src/common/site-config.js';
import { kadeployApiUrl } from '../../../src/engine/kadeploy-api/listener.js';
import { type RunningServer, startEngine } from '../../../src/engine/main.js';
import { EngineHttp } from '../../../src/hook/engine-http.js';
import { run } from '../helpers/run.js';
import { makeSite, type TestSite } from '../helpers/site.js';

/**
 * The engine over HTTPS (server.tls_cert, server.tls_key): both listeners serve TLS with the
 * configured certificate; kaploy's clients, the -M discovery and the OAR hooks verify it against
 * the configured `ca` (a CA or the pinned certificate) and refuse any other.
 */
let site: TestSite;
let server: RunningServer;
let tlsDir: string;

/** A self-signed certificate for 127.0.0.1 (P-256), its key mode 600. */
function selfSigned(name: string): { cert: string; key: string } {
  const cert = path.join(tlsDir, `${name}.crt`);
  const key = path.join(tlsDir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  chmodSync(key, 0o600);
  return { cert, key };
}

/** The test site's configuration file with `server` and top-level keys overridden. */
function siteWith(
  name: string,
  server: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): string {
  const doc = parse(readFileSync(site.configFile, 'utf8')) as Record<string, unknown>;
  const file = path.join(site.dir, `${name}.yaml`);
  writeFileSync(file, stringify({ ...doc, server: { ...(doc.server as object), ...server }, ...extra }));
  return file;
}

let good: { cert: string; key: string };
let other: { cert: string; key: string };
let config: SiteConfig;
const token = (u: string) => readFileSync(site.tokenFile(u), 'utf8').trim();

beforeAll(async () => {
  site = makeSite({ users: ['alice'] });
  tlsDir = path.join(site.dir, 'tls');
  mkdirSync(tlsDir);
  good = selfSigned('engine');
  other = selfSigned('impostor');
  config = loadSiteConfig(
    siteWith('tls', { tls_cert: good.cert, tls_key: good.key }, { kadeploy_api: { enabled: true, port: 0 } }),
  );
  server = await startEngine(config, { port: 0, logger: silentLogger });
});
afterAll(async () => {
  await server?.close();
  site?.cleanup();
});

describe('HTTPS engine', () => {
  it('serves https, and a client given the certificate as its CA is answered', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const client = new ApiClient({ url: server.url, token: token('alice'), ca: readFileSync(good.cert) });
    const version = await client.request('GET', '/version');
    expect(version).toMatchObject({ site: 'testsite', version: expect.any(String) });
    // Authenticated routes too: the token crosses the network only inside TLS.
    expect(Array.isArray(await client.request('GET', '/environments'))).toBe(true);
  });

  it('a client without the CA, or pinning another certificate, is refused with what to configure', async () => {
    for (const ca of [undefined, readFileSync(other.cert)]) {
      const client = new ApiClient({
        url: server.url,
        token: token('alice'),
        serverName: 'rennes',
        ...(ca ? { ca } : {}),
      });
      const err = await client.request('GET', '/version').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'KAPLOY_CLIENT' });
      expect((err as Error).message).toContain('cannot reach the kaploy server rennes');
      expect((err as Error).message).toContain('give its CA, or the certificate itself, as `ca:`');
    }
  });

  it('plain HTTP to the HTTPS port gets no answer', async () => {
    const client = new ApiClient({ url: server.url.replace('https:', 'http:'), token: token('alice') });
    await expect(client.request('GET', '/version', { timeoutMs: 5000 })).rejects.toMatchObject({
      code: 'KAPLOY_CLIENT',
    });
  });

  it('the Kadeploy-compatible listener serves the same certificate', async () => {
    const url = kadeployApiUrl(server.ctx);
    expect(url).toMatch(/^https:\/\//);
    // Kadeploy's GET /version: unauthenticated, answered as plain text.
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      https
        .get(`${url}/version`, { ca: readFileSync(good.cert) }, (res) => {
          let body = '';
          res.on('data', (d) => {
            body += d;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
        .on('error', reject);
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatch(/^\d+\.\d+/);
  });

  it("the OAR hooks' client verifies with engine_ca, and refuses without it", async () => {
    const withCa = new EngineHttp({ url: server.url, token: token('admin'), ca: readFileSync(good.cert) });
    await expect(withCa.request('GET', '/version')).resolves.toMatchObject({
      site: 'testsite',
      version: expect.any(String),
    });
    await withCa.close();
    const without = new EngineHttp({ url: server.url, token: token('admin') });
    await expect(without.request('GET', '/version')).rejects.toMatchObject({ code: 'KAPLOY_CLIENT' });
    await without.close();
  });

  it('kaenv3 reads `ca` from the client configuration; a missing ca file is a configuration error', async () => {
    const clientFile = (ca: string) => {
      const f = path.join(site.dir, `client-tls-${path.basename(ca)}.yaml`);
      writeFileSync(
        f,
        stringify({ servers: { test: { url: server.url, token_file: site.tokenFile('alice'), ca } } }),
      );
      return f;
    };
    const env = (ca: string) => ({
      ...site.envFor('alice', server.url),
      KAPLOY_CLIENT_CONFIG: clientFile(ca),
    });
    const ok = await run('kaenv3', ['-l'], { env: env(good.cert) });
    // Answered by the engine (a site with no environment yet), over the verified connection.
    expect(ok.stderr).toBe('No environment has been found\n');
    expect(ok.code).toBe(0);
    const missing = await run('kaenv3', ['-l'], { env: env(path.join(tlsDir, 'nope.crt')) });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/cannot read the CA of server test \(ca\) .*nope\.crt: ENOENT/);
    const untrusted = await run('kaenv3', ['-l'], { env: env(other.cert) });
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.stderr).toContain('is not trusted');
  });
});

describe('HTTPS configuration refused up front', () => {
  const startFails = async (file: string) => {
    let cfg: SiteConfig;
    try {
      cfg = loadSiteConfig(file);
    } catch (e) {
      return e;
    }
    return startEngine(cfg, { port: 0, logger: silentLogger }).then(
      async (s) => {
        await s.close();
        return undefined;
      },
      (e: unknown) => e,
    );
  };

  it('a certificate without its key, and a key without its certificate', async () => {
    expect(await startFails(siteWith('cert-only', { tls_cert: good.cert }))).toMatchObject({
      code: 'KAPLOY_CONFIG',
      message: expect.stringContaining('tls_cert is set: give its private key too'),
    });
    expect(await startFails(siteWith('key-only', { tls_key: good.key }))).toMatchObject({
      code: 'KAPLOY_CONFIG',
      message: expect.stringContaining('tls_key is set: give its certificate too'),
    });
  });

  it('a key readable by every user, a key of another certificate, a file that is not PEM, a FIFO', async () => {
    const open = path.join(tlsDir, 'open.key');
    writeFileSync(open, readFileSync(good.key));
    chmodSync(open, 0o644);
    expect(await startFails(siteWith('open-key', { tls_cert: good.cert, tls_key: open }))).toMatchObject({
      code: 'KAPLOY_CONFIG',
      message: expect.stringContaining('is readable by every user (mode 644)'),
    });
    expect(await startFails(siteWith('mismatch', { tls_cert: good.cert, tls_key: other.key }))).toMatchObject(
      {
        code: 'KAPLOY_CONFIG',
        message: expect.stringContaining('are not a usable pair'),
      },
    );
    const text = path.join(tlsDir, 'text.crt');
    writeFileSync(text, 'not a certificate\n');
    expect(await startFails(siteWith('text', { tls_cert: text, tls_key: good.key }))).toMatchObject({
      code: 'KAPLOY_CONFIG',
      message: expect.stringContaining('holds no PEM block'),
    });
    const fifo = path.join(tlsDir, 'fifo.crt');
    execFileSync('mkfifo', [fifo]);
    expect(await startFails(siteWith('fifo', { tls_cert: fifo, tls_key: good.key }))).toMatchObject({
      code: 'KAPLOY_CONFIG',
      message: expect.stringContaining('is not a regular file'),
    });
  });
});
