import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/logger.js';
import { parseSiteConfig, type SiteConfig } from '../../../src/common/site-config.js';
import { kadeployApiUrl } from '../../../src/engine/kadeploy-api/listener.js';
import { type RunningEngine, startEngine } from '../../../src/engine/main.js';
import { metricsListenerUrl } from '../../../src/engine/metrics/routes-metrics.js';
import { ADMIN, makeSite, type TestSite } from '../helpers/site.js';

const SITE = `
site: rennes
clusters:
  - name: paradent
    nodes: { names: "paradent-[1-2].rennes", addresses: "127.5.0.[1-2]" }
`;

describe('metrics in the site configuration', () => {
  it('defaults: on, on the engine’s listener; metrics.listen is ADDRESS:PORT', () => {
    expect(parseSiteConfig(SITE, 'site.yaml').metrics).toEqual({ enabled: true });
    expect(parseSiteConfig(`${SITE}metrics: { listen: "10.0.0.1:9464" }\n`, 'site.yaml').metrics).toEqual({
      enabled: true,
      listen: { host: '10.0.0.1', port: 9464 },
    });
    expect(parseSiteConfig(`${SITE}metrics: { listen: "[::1]:0" }\n`, 'site.yaml').metrics).toEqual({
      enabled: true,
      listen: { host: '::1', port: 0 },
    });
    expect(parseSiteConfig(`${SITE}metrics: { enabled: false }\n`, 'site.yaml').metrics).toEqual({
      enabled: false,
    });
  });

  it('refuses, naming the key: a name, no port, a port too large, a bad address, a non-boolean, an unknown key', () => {
    const cases: [string, RegExp][] = [
      ['metrics: { listen: "localhost:9464" }', /metrics\.listen.*expected ADDRESS:PORT/],
      ['metrics: { listen: "10.0.0.1" }', /metrics\.listen.*expected ADDRESS:PORT/],
      ['metrics: { listen: "10.0.0.1:99999" }', /metrics\.listen.*above 65535/],
      ['metrics: { listen: "10.0.0.300:9464" }', /metrics\.listen.*not an IP address/],
      ['metrics: { listen: "[fe80::1%eth0]:9464" }', /metrics\.listen/],
      ['metrics: { listen: "10.0.0.1:9464; rm -rf /" }', /metrics\.listen/],
      ['metrics: { enabled: sometimes }', /metrics\.enabled/],
      ['metrics: { path: /prom }', /metrics.*path/],
    ];
    for (const [extra, re] of cases)
      expect(() => parseSiteConfig(`${SITE}${extra}\n`, 'site.yaml'), extra).toThrow(re);
  });
});

const token = (site: TestSite, user: string) => readFileSync(site.tokenFile(user), 'utf8').trim();
const get = (url: string, bearer?: string) =>
  fetch(url, bearer ? { headers: { authorization: `Bearer ${bearer}` } } : {});

/** The engine's own series (kaploy_*), without the process' default ones whose values move. */
const own = (text: string) => text.split('\n').filter((l) => /^(# (HELP|TYPE) )?kaploy_/.test(l));

describe('GET /metrics', () => {
  let site: TestSite | undefined;
  let engine: RunningEngine | undefined;
  afterEach(async () => {
    await engine?.close();
    site?.cleanup();
    engine = undefined;
    site = undefined;
  });
  const start = async (nodes: number, metrics?: SiteConfig['metrics']) => {
    site = makeSite({ users: ['alice'], nodes });
    engine = await startEngine(
      { ...site.config, ...(metrics ? { metrics } : {}) },
      { port: 0, host: '127.0.0.1', logger: silentLogger },
    );
    return { site, engine };
  };

  it('on the engine’s listener: admins only (401 without a token, 403 for a user), Prometheus text', async () => {
    const { site, engine } = await start(2);
    expect((await get(`${engine.url}/metrics`)).status).toBe(401);
    const user = await get(`${engine.url}/metrics`, token(site, 'alice'));
    expect(user.status).toBe(403);
    expect(((await user.json()) as { error: { code: string } }).error.code).toBe('KAPLOY_RIGHTS');
    const r = await get(`${engine.url}/metrics`, token(site, ADMIN));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await r.text();
    expect(text).toContain('kaploy_nodes{state="prod_env"} 2\n');
    expect(text).toContain('kaploy_oar_restores{state="pending"} 0\n');
    expect(text).toContain('kaploy_oar_restore_oldest_age_seconds 0\n');
    expect(text).toContain('kaploy_ssh_connections_open 0\n');
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
  });

  it('HTTP durations are labelled by route pattern, never by the URL (node names, ids, junk)', async () => {
    const { site, engine } = await start(2);
    const admin = token(site, ADMIN);
    await get(`${engine.url}/nodes/node-1.testsite`, admin);
    await get(`${engine.url}/nodes/node-2.testsite`, admin);
    await get(`${engine.url}/deployment/D-00000000-0000-0000-0000-000000000000`, admin);
    for (let i = 0; i < 20; i++) await get(`${engine.url}/junk-${i}?x=${'y'.repeat(100)}`, admin);
    await fetch(`${engine.url}/nodes`, { method: 'PROPFIND', headers: { authorization: `Bearer ${admin}` } });
    const text = await (await get(`${engine.url}/metrics`, admin)).text();
    expect(text).toContain(
      'kaploy_http_request_duration_seconds_count{listener="engine",method="GET",route="/nodes/:node",status="200"} 2\n',
    );
    expect(text).toContain(
      'kaploy_http_request_duration_seconds_count{listener="engine",method="GET",route="/deployment/:wid",status="404"} 1\n',
    );
    expect(text).toContain(
      'kaploy_http_request_duration_seconds_count{listener="engine",method="GET",route="unmatched",status="404"} 20\n',
    );
    expect(text).toMatch(
      /kaploy_http_request_duration_seconds_count\{listener="engine",method="other",route="unmatched",status="\d+"\} 1\n/,
    );
    expect(text).not.toMatch(/node-1\.testsite|junk-|D-0000|PROPFIND/);
  });

  it('requests to the Kadeploy-compatible listener are timed too, as listener="kadeploy"', async () => {
    site = makeSite({ users: [], nodes: 1 });
    engine = await startEngine(
      {
        ...site.config,
        kadeployApi: {
          enabled: true,
          host: '127.0.0.1',
          port: 0,
          prefix: '/kadeploy',
          trustedProxies: [],
          headerPrefix: 'X-Kadeploy-',
        },
      },
      { port: 0, host: '127.0.0.1', logger: silentLogger },
    );
    expect((await get(`${kadeployApiUrl(engine.ctx)}/version`)).status).toBe(200);
    const text = await (await get(`${engine.url}/metrics`, token(site, ADMIN))).text();
    expect(text).toContain(
      'kaploy_http_request_duration_seconds_count{listener="kadeploy",method="GET",route="/kadeploy/version",status="200"} 1\n',
    );
  });

  it('costs the same for 10 nodes as for 250: the same series, output of the same size', async () => {
    const series = async (nodes: number) => {
      const s = await start(nodes);
      const text = await (await get(`${s.engine.url}/metrics`, token(s.site, ADMIN))).text();
      await s.engine.close();
      s.site.cleanup();
      engine = undefined;
      site = undefined;
      return own(text);
    };
    const small = await series(10);
    const large = await series(250);
    // Only the count of prod_env nodes differs (its digits).
    expect(large.map((l) => l.replace(/ \d+$/, ' N'))).toEqual(small.map((l) => l.replace(/ \d+$/, ' N')));
    expect(Math.abs(large.join('\n').length - small.join('\n').length)).toBeLessThanOrEqual(2);
    expect(large).toContain('kaploy_nodes{state="prod_env"} 250');
  });

  it('metrics.listen: a listener of its own without authentication, and nothing on the engine’s', async () => {
    const { site, engine } = await start(1, { enabled: true, listen: { host: '127.0.0.1', port: 0 } });
    const url = metricsListenerUrl(engine.ctx) as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const r = await get(url);
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('kaploy_nodes{state="prod_env"} 1\n');
    expect((await get(url.replace(/\/metrics$/, '/nodes'))).status).toBe(404);
    expect((await get(`${engine.url}/metrics`, token(site, ADMIN))).status).toBe(404);
  });

  it('enabled: false serves nothing', async () => {
    const { site, engine } = await start(1, { enabled: false });
    expect((await get(`${engine.url}/metrics`, token(site, ADMIN))).status).toBe(404);
    expect(metricsListenerUrl(engine.ctx)).toBeUndefined();
  });

  it('two engines in one process count apart (a registry each)', async () => {
    const a = makeSite({ users: [], nodes: 1, name: 'sitea' });
    const b = makeSite({ users: [], nodes: 3, name: 'siteb' });
    const ea = await startEngine(a.config, { port: 0, host: '127.0.0.1', logger: silentLogger });
    const eb = await startEngine(b.config, { port: 0, host: '127.0.0.1', logger: silentLogger });
    try {
      expect(await (await get(`${ea.url}/metrics`, token(a, ADMIN))).text()).toContain(
        'kaploy_nodes{state="prod_env"} 1\n',
      );
      expect(await (await get(`${eb.url}/metrics`, token(b, ADMIN))).text()).toContain(
        'kaploy_nodes{state="prod_env"} 3\n',
      );
    } finally {
      await ea.close();
      await eb.close();
      a.cleanup();
      b.cleanup();
    }
  });
});
