import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type Site, startSite } from '../../../e2e/helpers/virtual-site.js';
import type { UiBrowser, UiPage, UiSession } from './browser-driver.js';

/**
 * The dashboard in a headless browser, against a running virtual site: log in, watch a deployment
 * progress live to its end, open a KO node's reason, see another user denied the operation, check
 * a chart against kastat3's rows, read the pages with scripts off. One list of scenarios, run by
 * test/slow/ui/dashboard-chromium.test.ts and dashboard-firefox.test.ts. Each page is saved to
 * docs/screenshots/ (the README and docs/dashboard.md show them), with the browser's suffix.
 */
const SHOTS = path.resolve(import.meta.dirname, '..', '..', '..', '..', 'docs', 'screenshots');

// Questions about a page's content, answered by the same DOM code in every browser.
const count = (page: UiPage, selector: string) =>
  page.evaluate((s) => document.querySelectorAll(s).length, selector);

/** The text of the one element `selector` matches (waits for it; more than one is an error). */
async function text(page: UiPage, selector: string): Promise<string> {
  await page.waitFor((s) => document.querySelector(s) !== null, selector);
  const texts = await page.evaluate(
    (s) => [...document.querySelectorAll(s)].map((e) => e.textContent ?? ''),
    selector,
  );
  expect(texts, `exactly one ${selector}`).toHaveLength(1);
  return texts[0] as string;
}

const firstText = (page: UiPage, selector: string) =>
  page.evaluate((s) => document.querySelector(s)?.textContent ?? null, selector);

const attr = (page: UiPage, selector: string, name: string) =>
  page.evaluate(
    (a) => {
      const [s, n] = JSON.parse(a) as [string, string];
      return document.querySelector(s)?.getAttribute(n) ?? null;
    },
    JSON.stringify([selector, name]),
  );

/**
 * `name`: the browser, in the tests' names; `scriptsOff`: its driver can open a session with
 * scripts disabled (Chromium's).
 */
export function describeDashboard(
  launch: () => Promise<UiBrowser>,
  o: { name: string; scriptsOff: boolean },
): void {
  let site: Site;
  let url: string;
  let browser: UiBrowser;

  const secret = (user: string) => readFileSync(path.join(site.dir, 'tokens', user), 'utf8').trim();
  const shot = (page: UiPage, name: string) =>
    page.screenshot(path.join(SHOTS, `${name}${browser.shotSuffix}.png`));

  async function loggedIn(user: string, opts?: { javaScript?: boolean }): Promise<UiSession> {
    const session = await browser.newSession(opts);
    const { page } = session;
    await page.goto(`${url}/ui/nodes`);
    // Without a session, the login page.
    expect(new URL(await page.href()).pathname).toBe('/ui/login');
    await page.fill('input[name=secret]', secret(user));
    await page.clickToNavigate('button[type=submit]');
    expect(await page.href()).toBe(`${url}/ui/nodes`);
    return session;
  }

  beforeAll(async () => {
    site = await startSite({ nodes: 4, site: 'uisite' });
    const client = parse(readFileSync(path.join(site.dir, 'client.yaml'), 'utf8')) as {
      servers: Record<string, { url: string }>;
    };
    url = Object.values(client.servers)[0]?.url as string;
    browser = await launch();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await site?.down();
  });

  describe(`the dashboard in ${o.name}`, () => {
    let wid = '';
    it('logs in, and shows the nodes grouped by cluster with their state', async () => {
      const session = await loggedIn('root');
      const { page } = session;
      const cookies = await session.cookies();
      expect(cookies.find((c) => c.name === 'kaploy_ui')).toMatchObject({
        httpOnly: true,
        sameSite: 'Strict',
      });
      expect(await count(page, 'section.cluster a.node')).toBe(4);
      expect(await count(page, 'a.node.st-prod_env')).toBe(4);
      await shot(page, 'nodes');
      expect(session.pageErrors()).toEqual([]);
      await session.close();
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
      const session = await loggedIn('root');
      const { page } = session;
      // Every state n1's row shows on the operation page, seen by the page itself as it changes
      // (sampling from the test missed changes on a busy machine).
      await session.addInitScript((node: string) => {
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
        const link = 'table.ops a[href^="/ui/operations/D-"]';
        for (let i = 0; i < 100 && (await count(page, link)) === 0; i++) {
          await sleep(100);
          await page.goto(`${url}/ui/operations`);
        }
        wid = (await firstText(page, link)) ?? '';
        expect(wid).toMatch(/^D-[0-9a-f-]{36}$/);
        await page.goto(`${url}/ui/operations/${wid}`);
        // The page loaded while the deployment ran; from here on it is updated without a reload.
        expect(await attr(page, '#op', 'data-live')).toBe('yes');
        await page.evaluate(() => {
          (window as unknown as { notReloaded: boolean }).notReloaded = true;
        });
        const r = await deploy;
        expect(r.code).toBe(1);
        await page.waitFor(() => document.getElementById('op')?.dataset.stream === 'ended');
        expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(
          true,
        );
        expect(await text(page, '#op-status')).toBe('done');
        // Seen moving through the steps while it ran, not only at the end.
        const seen = await page.evaluate(() => (window as unknown as { n1Seen: string[] }).n1Seen);
        // Steps as macro|micro: a micro-step name such as wait_reboot recurs in several macro-steps.
        const steps = new Set(seen.map((s) => s.split('|').slice(0, 2).join('|')).filter((m) => m !== '|'));
        expect(steps.size, seen.join(' ; ')).toBeGreaterThan(1);
        expect(seen[seen.length - 1]?.endsWith('|ok')).toBe(true);
        expect(await text(page, `tr[data-node="${n1}"] .state`)).toBe('ok');
        const ko = `tr[data-node="${n2}"]`;
        expect(await text(page, `${ko} .state`)).toBe('ko');
        expect(await text(page, `${ko} .macro`)).toMatch(/^SetDeploymentEnv/);
        expect(await text(page, `${ko} .micro`)).toBe('wait_reboot');
        expect(await text(page, `${ko} .reason`)).toMatch(/\S/);
        // The log lines arrived live too, at the page's verbosity.
        expect(await text(page, '#op-log')).toContain(`Deployment #${wid} done (1/2 nodes OK)`);
        await shot(page, 'operation');
        // The KO node's page: its state and the reason in its history.
        await page.clickToNavigate(`${ko} a`);
        expect(await count(page, 'dd.st-deploy_failed')).toBe(1);
        const reason = await firstText(page, 'table.history td.reason');
        expect(reason).toMatch(/\S/);
        await shot(page, 'node');
        expect(session.pageErrors()).toEqual([]);
      } finally {
        for (const n of [n1, n2])
          await site.run('kaploy', ['testbed', 'fault', '--dir', site.dir, n, 'clear']);
        await session.close();
      }
    });

    it('denies another user the deployment, in the page and in its event stream', async () => {
      expect(wid).not.toBe('');
      const session = await loggedIn('alice');
      const { page } = session;
      try {
        expect(await page.goto(`${url}/ui/operations/${wid}`)).toBe(404);
        expect(await text(page, 'main .error')).toBe(`no deployment ${wid}`);
        const stream = await page.evaluate(
          async (u) => (await fetch(u)).status,
          `/ui/operations/${wid}/events`,
        );
        expect(stream).toBe(404);
        await page.goto(`${url}/ui/operations`);
        expect(await count(page, `a[href="/ui/operations/${wid}"]`)).toBe(0);
        await page.goto(`${url}/ui/operations/${wid}`);
        await shot(page, 'denied');
        expect(session.pageErrors()).toEqual([]);
      } finally {
        await session.close();
      }
    });

    it('draws the statistics charts from the rows kastat3 prints', async () => {
      const session = await loggedIn('root');
      const { page } = session;
      try {
        await page.goto(`${url}/ui/stats?operation=all`);
        await page.waitFor(() => document.querySelector('figure#chart-durations-uisite-c1 canvas') !== null);
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
        expect(session.pageErrors()).toEqual([]);
      } finally {
        await session.close();
      }
    });

    it.runIf(o.scriptsOff)(
      'is readable with scripts off: login, nodes, the finished operation, the statistics rows',
      async () => {
        expect(wid).not.toBe('');
        const session = await loggedIn('root', { javaScript: false });
        const { page } = session;
        const [n1, n2] = site.nodes as [string, string];
        try {
          expect(await count(page, 'section.cluster a.node')).toBe(4);
          expect(await page.goto(`${url}/ui/operations/${wid}`)).toBe(200);
          expect(await text(page, '#op-status')).toBe('done');
          expect(await text(page, `tr[data-node="${n1}"] .state`)).toBe('ok');
          expect(await text(page, `tr[data-node="${n2}"] .state`)).toBe('ko');
          expect(await text(page, `tr[data-node="${n2}"] .reason`)).toMatch(/\S/);
          expect(await text(page, '#op-log')).toContain(`Deployment #${wid} done (1/2 nodes OK)`);
          await page.goto(`${url}/ui/stats?operation=all`);
          // No chart was drawn (scripts are really off); the page says so, and the rates are there.
          expect(await count(page, '#charts canvas')).toBe(0);
          expect(await text(page, '#charts noscript')).toContain('The charts need JavaScript');
          const rates = await page.evaluate(() =>
            [...document.querySelectorAll('table.rates tbody tr')].map((tr) => tr.textContent ?? ''),
          );
          expect(rates.some((r) => r.startsWith(n2))).toBe(true);
          await shot(page, 'stats-nojs');
        } finally {
          await session.close();
        }
      },
    );
  });
}
