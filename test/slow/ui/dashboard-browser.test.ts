import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type Site, startSite } from '../../e2e/helpers/virtual-site.js';

/**
 * The dashboard in Debian's Chromium (headless), against a running virtual site: log in, watch a
 * deployment progress live to its end, open a KO node's reason, see another user denied the
 * operation. Each page is saved to docs/screenshots/ (the README and docs/dashboard.md show them).
 */
const SHOTS = path.resolve(import.meta.dirname, '..', '..', '..', 'docs', 'screenshots');
let site: Site;
let url: string;
let browser: Browser;

const secret = (user: string) => readFileSync(path.join(site.dir, 'tokens', user), 'utf8').trim();

async function loggedIn(user: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${url}/ui/nodes`);
  // Without a session, the login page.
  expect(new URL(page.url()).pathname).toBe('/ui/login');
  await page.fill('input[name=secret]', secret(user));
  await Promise.all([page.waitForURL(`${url}/ui/nodes`), page.click('button[type=submit]')]);
  return { context, page };
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });

beforeAll(async () => {
  site = await startSite({ nodes: 4, site: 'uisite' });
  const client = parse(readFileSync(path.join(site.dir, 'client.yaml'), 'utf8')) as {
    servers: Record<string, { url: string }>;
  };
  url = Object.values(client.servers)[0]?.url as string;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox'],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await site?.down();
});

describe('the dashboard in Chromium', () => {
  let wid = '';
  it('logs in, and shows the nodes grouped by cluster with their state', async () => {
    const { context, page } = await loggedIn('root');
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'kaploy_ui')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(await page.locator('section.cluster a.node').count()).toBe(4);
    expect(await page.locator('a.node.st-prod_env').count()).toBe(4);
    await shot(page, 'nodes');
    await context.close();
  });

  it('follows a deployment live to its end, and shows the KO node with its step and reason', async () => {
    const [n1, n2] = site.nodes as [string, string];
    const f = await site.run('kaploy', [
      'testbed',
      'fault',
      '--dir',
      site.dir,
      n2,
      'no_reboot',
      '--when',
      'reboot',
    ]);
    expect(f.code).toBe(0);
    // n1 boots slower, so it is still on its way when the page loads, however loaded the machine.
    const slow = await site.run('kaploy', [
      'testbed',
      'fault',
      '--dir',
      site.dir,
      n1,
      'slow_boot',
      '--extra-ms',
      '2500',
    ]);
    expect(slow.code).toBe(0);
    const { context, page } = await loggedIn('root');
    // Every state n1's row shows on the operation page, seen by the page itself as it changes
    // (sampling from the test missed changes on a busy machine).
    await context.addInitScript((node: string) => {
      const seen: string[] = [];
      (window as unknown as { n1Seen: string[] }).n1Seen = seen;
      const record = () => {
        const row = document.querySelector(`tr[data-node="${node}"]`);
        if (!row) return;
        const cell = (c: string) => row.querySelector(`.${c}`)?.textContent ?? '';
        const now = `${cell('macro')}|${cell('micro')}|${cell('state')}`;
        if (seen[seen.length - 1] !== now) seen.push(now);
      };
      document.addEventListener('DOMContentLoaded', () => {
        record();
        new MutationObserver(record).observe(document.body, {
          subtree: true,
          childList: true,
          characterData: true,
        });
      });
    }, n1);
    try {
      const deploy = site.run('kadeploy3', [
        '-e',
        'tiny-x64-base',
        '-m',
        n1,
        '-m',
        n2,
        '--force-steps',
        'SetDeploymentEnv|SetDeploymentEnvUntrusted:0:8&BroadcastEnv|BroadcastEnvKascade:0:60&BootNewEnv|BootNewEnvClassical:0:20',
      ]);
      // The operations page lists it as soon as it started (a reload: that page is not live).
      const link = page.locator('table.ops a[href^="/ui/operations/D-"]').first();
      for (let i = 0; i < 100 && (await link.count()) === 0; i++) {
        await page.waitForTimeout(100);
        await page.goto(`${url}/ui/operations`);
      }
      wid = (await link.textContent()) ?? '';
      expect(wid).toMatch(/^D-[0-9a-f-]{36}$/);
      await page.goto(`${url}/ui/operations/${wid}`);
      // The page loaded while the deployment ran; from here on it is updated without a reload.
      expect(await page.locator('#op').getAttribute('data-live')).toBe('yes');
      await page.evaluate(() => {
        (window as unknown as { notReloaded: boolean }).notReloaded = true;
      });
      const r = await deploy;
      expect(r.code).toBe(1);
      await page.waitForFunction(() => document.getElementById('op')?.dataset.stream === 'ended');
      expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(
        true,
      );
      expect(await page.locator('#op-status').textContent()).toBe('done');
      // Seen moving through the steps while it ran, not only at the end.
      const seen = await page.evaluate(() => (window as unknown as { n1Seen: string[] }).n1Seen);
      // Steps as macro|micro: a micro-step name such as wait_reboot recurs in several macro-steps.
      const steps = new Set(seen.map((s) => s.split('|').slice(0, 2).join('|')).filter((m) => m !== '|'));
      expect(steps.size, seen.join(' ; ')).toBeGreaterThan(1);
      expect(seen[seen.length - 1]?.endsWith('|ok')).toBe(true);
      expect(await page.locator(`tr[data-node="${n1}"] .state`).textContent()).toBe('ok');
      const ko = page.locator(`tr[data-node="${n2}"]`);
      expect(await ko.locator('.state').textContent()).toBe('ko');
      expect(await ko.locator('.macro').textContent()).toMatch(/^SetDeploymentEnv/);
      expect(await ko.locator('.micro').textContent()).toBe('wait_reboot');
      expect(await ko.locator('.reason').textContent()).toMatch(/\S/);
      // The log lines arrived live too, at the page's verbosity.
      expect(await page.locator('#op-log').textContent()).toContain(`Deployment #${wid} done (1/2 nodes OK)`);
      await shot(page, 'operation');
      // The KO node's page: its state and the reason in its history.
      await page.click(`tr[data-node="${n2}"] a`);
      expect(await page.locator('dd.st-deploy_failed').count()).toBe(1);
      const reason = await page.locator('table.history td.reason').first().textContent();
      expect(reason).toMatch(/\S/);
      await shot(page, 'node');
    } finally {
      for (const n of [n1, n2]) await site.run('kaploy', ['testbed', 'fault', '--dir', site.dir, n, 'clear']);
      await context.close();
    }
  });

  it('denies another user the deployment, in the page and in its event stream', async () => {
    expect(wid).not.toBe('');
    const { context, page } = await loggedIn('alice');
    try {
      const res = await page.goto(`${url}/ui/operations/${wid}`);
      expect(res?.status()).toBe(404);
      expect(await page.locator('main .error').textContent()).toBe(`no deployment ${wid}`);
      const stream = await page.evaluate(
        async (u) => (await fetch(u)).status,
        `/ui/operations/${wid}/events`,
      );
      expect(stream).toBe(404);
      await page.goto(`${url}/ui/operations`);
      expect(await page.locator(`a[href="/ui/operations/${wid}"]`).count()).toBe(0);
      await page.goto(`${url}/ui/operations/${wid}`);
      await shot(page, 'denied');
    } finally {
      await context.close();
    }
  });

  it('draws the statistics charts from the rows kastat3 prints', async () => {
    const { context, page } = await loggedIn('root');
    try {
      await page.goto(`${url}/ui/stats?operation=all`);
      await page.waitForSelector('figure#chart-durations-uisite-c1 canvas');
      const chart = (await page.evaluate(
        () =>
          (window as unknown as { kaployCharts: Record<string, unknown> }).kaployCharts[
            'durations-uisite-c1'
          ],
      )) as { data: number[][]; hosts: string[] };
      const k = await site.run('kastat3', [
        '-d',
        '-o',
        'all',
        '-F',
        'hostname,start,step1_duration,step2_duration,step3_duration',
      ]);
      expect(k.code).toBe(0);
      const rows = k.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(','))
        .map(([h, st, a, b, c]) => ({ h, v: [st, a, b, c].map(Number) }))
        .sort((x, y) => (x.v[0] as number) - (y.v[0] as number));
      expect(rows.length).toBeGreaterThan(0);
      expect(chart.hosts.slice().sort()).toEqual(rows.map((r) => r.h).sort());
      for (let col = 0; col < 4; col++)
        expect((chart.data[col] as number[]).slice().sort()).toEqual(rows.map((r) => r.v[col]).sort());
      await shot(page, 'stats');
    } finally {
      await context.close();
    }
  });
});
