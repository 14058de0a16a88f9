import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTally } from '../../scripts/reliability/fuzz/checks.mjs';
import { createRng } from '../../scripts/reliability/fuzz/grammar.mjs';
import { httpSuite, kadeployHttpSuite } from '../../scripts/reliability/fuzz/http.mjs';
import { silentLogger } from '../../src/common/logger.js';
import { kadeployApiUrl } from '../../src/engine/kadeploy-api/listener.js';
import { type RunningServer, startEngine } from '../../src/engine/main.js';
import { ADMIN, makeSite, type TestSite } from '../engine/helpers/site.js';

let site: TestSite;
let server: RunningServer;

beforeAll(async () => {
  site = makeSite({ users: ['alice', 'bob'] });
  server = await startEngine(
    {
      ...site.config,
      kadeployApi: {
        enabled: true,
        host: '127.0.0.1',
        port: 0,
        prefix: '',
        trustedProxies: [],
        headerPrefix: 'X-Kadeploy-',
      },
    },
    { port: 0, host: '127.0.0.1', logger: silentLogger },
  );
});

afterAll(async () => {
  await server?.close();
  site?.cleanup();
});

describe('HTTP fuzz against a real engine', () => {
  it('mutated bodies, queries, paths and headers: always a 4xx JSON error, never a 5xx; the engine still answers', async () => {
    const tokens = {
      user: readFileSync(site.tokenFile('alice'), 'utf8').trim(),
      admin: readFileSync(site.tokenFile(ADMIN), 'utf8').trim(),
    };
    const tally = createTally(11);
    await httpSuite(createRng(11), 500, server.url, tokens, tally, AbortSignal.timeout(300_000));
    expect(tally.failures).toEqual([]);
    expect(tally.internalErrors).toBe(0);
    // 500 generated requests (a few fetch refuses to send are skipped), the raw ones, the last check.
    expect(tally.runs).toBeGreaterThan(450);
    expect(tally.passed).toBe(tally.runs);
  });

  it('the Kadeploy dialect, JSON and YAML bodies: never a 5xx, every 400 with its error code; no warning printed', async () => {
    const tokens = {
      user: readFileSync(site.tokenFile('alice'), 'utf8').trim(),
      admin: readFileSync(site.tokenFile(ADMIN), 'utf8').trim(),
    };
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const tally = createTally(12);
      await kadeployHttpSuite(
        createRng(12),
        300,
        kadeployApiUrl(server.ctx) as string,
        tokens,
        tally,
        AbortSignal.timeout(300_000),
      );
      expect(tally.failures).toEqual([]);
      expect(tally.runs).toBe(301);
      expect(tally.passed).toBe(301);
    } finally {
      process.off('warning', onWarning);
    }
    // An unknown YAML tag in a body used to print a YAMLWarning on the engine's stderr each time.
    expect(warnings).toEqual([]);
  });

  it('the Kadeploy dialect: a refusal quoting a 150 KB option keeps its header readable', async () => {
    const alice = readFileSync(site.tokenFile('alice'), 'utf8').trim();
    const name = 'node'.repeat(40_000);
    const res = await fetch(`${kadeployApiUrl(server.ctx)}/deployment`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`alice:${alice}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ [name]: 1, nodes: ['node-1.testsite'] }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-application-error-code')).toBe('4');
    const info = Buffer.from(res.headers.get('x-application-error-info') ?? '', 'base64').toString();
    expect(info.length).toBe(2003);
    expect(info.endsWith('...')).toBe(true);
    // The body still has the whole message.
    expect((await res.text()).length).toBeGreaterThan(name.length);
  });

  it('a URL that does not decode is a 400 in the API error format', async () => {
    const res = await fetch(new URL('/files/%s%n', server.url), {
      headers: { authorization: `Bearer ${readFileSync(site.tokenFile('alice'), 'utf8').trim()}` },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'KAPLOY_OPTION', appCode: 4 } });
  });

  it('headers over the size limit are a 431 in the API error format', async () => {
    const { port } = new URL(server.url);
    const answer = await new Promise<string>((resolve) => {
      let got = '';
      const sock = net.connect({ host: '127.0.0.1', port: Number(port) }, () => {
        sock.write(
          `GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\nx-a: ${'b'.repeat(100_000)}\r\n\r\n`,
        );
      });
      sock.on('data', (d) => {
        got += d.toString();
      });
      sock.on('close', () => resolve(got));
      sock.on('error', () => resolve(got));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({
      error: { code: 'KAPLOY_OPTION', message: 'invalid request: the request headers are too large' },
    });
  });
});
