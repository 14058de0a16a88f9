import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';

/**
 * The little the dashboard's browser scenarios need of a browser, over two drivers: playwright-core
 * for Debian's Chromium, puppeteer-core over WebDriver BiDi for Debian's Firefox ESR (playwright's
 * Firefox is a patched build of its own, not Debian's; decision 0036). Questions about the page's
 * content go through `evaluate`, so both browsers answer them with the same DOM code.
 */
export interface UiPage {
  /** Loads `url` and waits for its load event; the HTTP status of the page's response. */
  goto(url: string): Promise<number | undefined>;
  /** The document's address as the page sees it (after redirects). */
  href(): Promise<string>;
  fill(selector: string, text: string): Promise<void>;
  /** Clicks the element and waits until the page it leads to has loaded. */
  clickToNavigate(selector: string): Promise<void>;
  evaluate<R>(fn: (arg: string) => R | Promise<R>, arg?: string): Promise<R>;
  /** Waits (30 s at most) until `fn` returns true in the page. */
  waitFor(fn: (arg: string) => boolean, arg?: string): Promise<void>;
  screenshot(file: string): Promise<void>;
}

export interface UiCookie {
  name: string;
  httpOnly: boolean;
  sameSite?: string;
}

/** A fresh browser context (no cookies) with one 1200x800 page. */
export interface UiSession {
  page: UiPage;
  cookies(): Promise<UiCookie[]>;
  /** The uncaught script errors of the session's pages so far (the dashboard's own scripts). */
  pageErrors(): string[];
  /** Runs `fn(arg)` in every document of the session before its own scripts. */
  addInitScript(fn: (arg: string) => void, arg: string): Promise<void>;
  close(): Promise<void>;
}

export interface UiBrowser {
  /** Appended to screenshot names ("" for Chromium, whose shots the README shows). */
  shotSuffix: string;
  /** A session; `javaScript: false` for one with scripts disabled. */
  newSession(opts?: { javaScript?: boolean }): Promise<UiSession>;
  close(): Promise<void>;
}

const VIEWPORT = { width: 1200, height: 800 };
const WAIT_MS = 30_000;

export async function launchChromium(): Promise<UiBrowser> {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox'],
  });
  return {
    shotSuffix: '',
    async newSession(opts) {
      const context = await browser.newContext({
        viewport: VIEWPORT,
        javaScriptEnabled: opts?.javaScript ?? true,
      });
      const p = await context.newPage();
      const errors: string[] = [];
      p.on('pageerror', (e) => errors.push(e.message));
      const page: UiPage = {
        goto: async (url) => (await p.goto(url))?.status(),
        href: () => p.evaluate(() => location.href),
        fill: (selector, text) => p.fill(selector, text),
        clickToNavigate: async (selector) => {
          await Promise.all([p.waitForEvent('load'), p.click(selector)]);
        },
        evaluate: (fn, arg) => p.evaluate(fn, arg ?? ''),
        waitFor: async (fn, arg) => {
          await p.waitForFunction(fn, arg ?? '', { timeout: WAIT_MS });
        },
        screenshot: async (file) => {
          await p.screenshot({ path: file });
        },
      };
      return {
        page,
        cookies: () => context.cookies(),
        pageErrors: () => errors,
        addInitScript: async (fn, arg) => {
          await context.addInitScript(fn, arg);
        },
        close: () => context.close(),
      };
    },
    close: () => browser.close(),
  };
}

export async function launchFirefox(): Promise<UiBrowser> {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: '/usr/bin/firefox-esr',
    headless: true,
  });
  return {
    shotSuffix: '-firefox',
    async newSession(opts) {
      // With Firefox's javascript.enabled off, puppeteer's click never returns (it runs script in
      // the page): the scripts-off scenario runs in Chromium only.
      if (opts?.javaScript === false) throw new Error('no scripts-off session in Firefox');
      const context = await browser.createBrowserContext();
      const p = await context.newPage();
      await p.setViewport(VIEWPORT);
      const errors: string[] = [];
      p.on('pageerror', (e) => errors.push(e instanceof Error ? e.message : String(e)));
      const page: UiPage = {
        goto: async (url) => (await p.goto(url, { waitUntil: 'load' }))?.status(),
        href: () => p.evaluate(() => location.href),
        fill: (selector, text) => p.type(selector, text),
        clickToNavigate: async (selector) => {
          await Promise.all([
            p.waitForNavigation({ waitUntil: 'load', timeout: WAIT_MS }),
            p.click(selector),
          ]);
        },
        evaluate: (fn, arg) => p.evaluate(fn, arg ?? '') as Promise<never>,
        // Polled from here: puppeteer's waitForFunction builds its poller with Function() in the
        // page, which the dashboard's Content-Security-Policy refuses in Firefox.
        waitFor: async (fn, arg) => {
          const deadline = Date.now() + WAIT_MS;
          for (;;) {
            const ok = await p.evaluate(fn, arg ?? '').catch(() => false);
            if (ok) return;
            if (Date.now() > deadline) throw new Error(`waited ${WAIT_MS} ms for ${fn.toString()}`);
            await sleep(100);
          }
        },
        screenshot: async (file) => {
          await p.screenshot({ path: file as `${string}.png` });
        },
      };
      return {
        page,
        cookies: () => context.cookies(),
        pageErrors: () => errors,
        addInitScript: async (fn, arg) => {
          await p.evaluateOnNewDocument(fn, arg);
        },
        close: () => context.close(),
      };
    },
    close: () => browser.close(),
  };
}
