/**
 * A real Chromium for the web UI tests: Debian's `chromium` package (scripts/test.sh installs
 * it; CHROMIUM_PATH overrides the path) driven by playwright-core, which downloads no browser.
 * Each test gets its own browser context (cookies); screenshots of every page a test visits go
 * to test-artifacts/screenshots/ (kept as CI artifacts, ignored by git).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, type StartServerOptions, type TestServer } from './server.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = fileURLToPath(
  new URL('../../test-artifacts/screenshots/', import.meta.url),
);

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: sudo apt-get install -y chromium (or set CHROMIUM_PATH)`,
    );
  }
  // --no-sandbox: CI runs as root, where Chromium refuses its sandbox
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

/** a full-page screenshot named `<name>.png` (`<name>-360.png` after narrowing the viewport) */
export async function snap(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = join(SCREENSHOT_DIR, `${name.replace(/[^a-zA-Z0-9_-]+/g, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** startServer with the web admin and web client on the REST binding (the harness turns them off) */
export function startWebServer(o: StartServerOptions = {}): Promise<TestServer> {
  const over = (o.config ?? {}) as Record<string, unknown>;
  const httpd = (over.httpd ?? {}) as Record<string, unknown>;
  const bindings = (httpd.bindings ?? [{}]) as readonly Record<string, unknown>[];
  return startServer({
    ...o,
    config: {
      ...over,
      httpd: {
        ...httpd,
        bindings: [
          { enable_web_admin: true, enable_web_client: true, ...bindings[0] },
          ...bindings.slice(1),
        ],
      },
    } as StartServerOptions['config'],
  });
}

/** logs in through the area's login form and waits for the page after it */
export async function webLogin(
  page: Page,
  baseUrl: string,
  area: 'admin' | 'client',
  username: string,
  password: string,
): Promise<void> {
  await page.goto(`${baseUrl}/web/${area}/login`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.endsWith('/login')),
    page.click('button[type="submit"]'),
  ]);
}

export const NARROW = { width: 360, height: 740 };
export const WIDE = { width: 1280, height: 900 };

/**
 * Screenshots of the page at desktop width (`<name>.png`) and at 360 px (`<name>-360.png`);
 * unless `checkOverflow` is false, fails when the page is wider than the viewport at 360 px
 * (tables may scroll inside their own .table-wrap, the page may not).
 */
export async function snapBoth(page: Page, name: string, checkOverflow = true): Promise<void> {
  await snap(page, name);
  await page.setViewportSize(NARROW);
  await snap(page, `${name}-360`);
  if (checkOverflow) {
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');
    assert.ok(width <= NARROW.width + 1, `${name}: the page is ${width}px wide at 360px`);
  }
  await page.setViewportSize(WIDE);
}
