import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/logger.js';
import { type KadeployApiConfig, parseSiteConfig } from '../../../src/common/site-config.js';
import { kadeployApiUrl } from '../../../src/engine/kadeploy-api/listener.js';
import { type RunningServer, startEngine } from '../../../src/engine/main.js';
import { ADMIN, makeSite, type TestSite } from '../helpers/site.js';
import { basic, call, refusal } from './helpers.js';

const SITE = `
site: rennes
server: { host: 10.0.0.1 }
clusters:
  - name: paradent
    nodes: { names: "paradent-[1-2].rennes", addresses: "127.5.0.[1-2]" }
`;

describe('kadeploy_api in the site configuration', () => {
  it('defaults: off, port 25301 on the engine’s address, no path root, X-Kadeploy-, no proxy', () => {
    expect(parseSiteConfig(SITE, 'site.yaml').kadeployApi).toEqual({
      enabled: false,
      host: '10.0.0.1',
      port: 25301,
      prefix: '',
      trustedProxies: [],
      headerPrefix: 'X-Kadeploy-',
    });
    const cfg = parseSiteConfig(
      `${SITE}kadeploy_api: { enabled: true, host: 0.0.0.0, port: "25300", prefix: /kadeploy, trusted_proxies: ["::ffff:10.0.0.9", "fd00::1"], header_prefix: X-G5k- }\n`,
      'site.yaml',
    );
    expect(cfg.kadeployApi).toEqual({
      enabled: true,
      host: '0.0.0.0',
      port: 25300,
      prefix: '/kadeploy',
      trustedProxies: ['10.0.0.9', 'fd00::1'],
      headerPrefix: 'X-G5k-',
    });
  });

  it('refuses, naming the key: a proxy that is not an address, a bad path root, header prefix or port', () => {
    const cases: [string, RegExp][] = [
      [
        'kadeploy_api: { trusted_proxies: [g5k-api.rennes] }',
        /kadeploy_api\.trusted_proxies\[0\].*not an IP address/,
      ],
      ['kadeploy_api: { prefix: kadeploy }', /kadeploy_api\.prefix.*expected a path/],
      ['kadeploy_api: { prefix: /kadeploy/ }', /kadeploy_api\.prefix/],
      ['kadeploy_api: { header_prefix: "X Kadeploy" }', /kadeploy_api\.header_prefix/],
      ['kadeploy_api: { port: 70000 }', /kadeploy_api\.port/],
      ['kadeploy_api: { enabled: sometimes }', /kadeploy_api\.enabled/],
      ['kadeploy_api: { colour: blue }', /kadeploy_api.*colour/],
    ];
    for (const [extra, re] of cases)
      expect(() => parseSiteConfig(`${SITE}${extra}\n`, 'site.yaml'), extra).toThrow(re);
  });
});

describe('the listener under a path root', () => {
  let site: TestSite;
  let server: RunningServer;
  const api = (o: Partial<KadeployApiConfig>): KadeployApiConfig => ({
    enabled: true,
    host: '127.0.0.1',
    port: 0,
    prefix: '/kadeploy',
    trustedProxies: [],
    headerPrefix: 'X-Kadeploy-',
    ...o,
  });

  beforeAll(async () => {
    site = makeSite({ users: ['alice'], nodes: 1 });
    server = await startEngine(
      { ...site.config, kadeployApi: api({}) },
      { port: 0, host: '127.0.0.1', logger: silentLogger },
    );
  });
  afterAll(async () => {
    await server?.close();
    site?.cleanup();
  });

  it('serves under the prefix only; the engine’s own API is untouched (Bearer, JSON errors)', async () => {
    const url = kadeployApiUrl(server.ctx) as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/kadeploy$/);
    const root = url.replace(/\/kadeploy$/, '');
    expect((await call(root, 'GET', '/kadeploy/version')).status).toBe(200);
    // Outside the root nothing is public: authenticated first (as the engine does), then unknown.
    expect((await call(root, 'GET', '/version')).status).toBe(401);
    expect(
      (await call(root, 'GET', '/version', { headers: basic(ADMIN, site.tokenFile(ADMIN)) })).status,
    ).toBe(404);
    const r = await call(root, 'POST', '/kadeploy/reboot', {
      headers: basic(ADMIN, site.tokenFile(ADMIN)),
      body: { nodes: ['node-1.testsite'] },
    });
    expect(r.status).toBe(200);
    const { wid, resources } = r.json() as { wid: string; resources: { resource: string } };
    expect(resources.resource).toBe(`/kadeploy/reboot/${wid}`);
    const native = await call(server.url, 'GET', '/nodes');
    expect([native.status, (native.json() as { error: { code: string } }).error.code]).toEqual([
      401,
      'KAPLOY_AUTH',
    ]);
  });

  it('Basic credentials on the engine’s own API are refused as they always were', async () => {
    const native = await call(server.url, 'GET', '/nodes', {
      headers: basic('alice', site.tokenFile('alice')),
    });
    expect(native.status).toBe(401);
    expect(refusal(native).code).toBeUndefined();
  });

  it('a port already taken fails the engine’s start', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as AddressInfo).port;
    const other = makeSite({ users: [], nodes: 1 });
    try {
      await expect(
        startEngine(
          { ...other.config, kadeployApi: api({ port, prefix: '' }) },
          { port: 0, host: '127.0.0.1', logger: silentLogger },
        ),
      ).rejects.toThrow(/EADDRINUSE/);
    } finally {
      blocker.close();
      other.cleanup();
    }
  });
});
