/**
 * What the dashboard lets an operator read, in Debian's chromium: per-service CPU and memory charts, a restart
 * timeline, each service's templates with when they last rendered, the log view in the echo's colours, and a
 * layout that does not wrap at 1000 px. Screenshots at 1400 and 1000 px go to test-results/.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusView } from '../../src/control/types.js';
import { runTend, startTend, stopAllTends } from '../helpers/cli.js';

const CHROMIUM = '/usr/bin/chromium';
const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));

let dir: string;
let url: string;
let token: string;
let browser: Browser | undefined;
let page: Page;
const errors: string[] = [];

/** getComputedStyle, typed here: the tests compile without the DOM library */
type Rangeish = {
  selectNodeContents(n: unknown): void;
  getClientRects(): Iterable<{ top: number; width: number }>;
};
type Css = { getComputedStyle(e: unknown): { color: string; lineHeight: string } };

const status = () => JSON.parse(runTend(['status', '--json'], { cwd: dir }).stdout) as StatusView;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tend-dashview-'));
  mkdirSync(join(dir, 'kv/shop'), { recursive: true });
  mkdirSync(join(dir, 'templates'));
  writeFileSync(join(dir, 'kv/shop/greeting'), 'hello');
  writeFileSync(join(dir, 'templates/web.conf.tmpl'), 'greeting = {{ key "shop/greeting" }}\n');
  writeFileSync(
    join(dir, 'tend.yaml'),
    `name: shop
services:
  web-frontend:
    command: i=0; while :; do i=$((i+1)); echo "request $i served"; sleep 0.3; done
    templates:
      - source: templates/web.conf.tmpl
        destination: etc/web.conf
  burner:
    command: (while :; do :; done) & exec sleep 600
  worker:
    command: echo "worker up"; sleep 0.6; exit 1
    restart: { backoff: { initial: 300ms, max: 1s }, max_failures: 0 }
`,
  );
  const tend = startTend(['up', '--http', '127.0.0.1:0'], { cwd: dir, env: { TEND_SAMPLE_MS: '500' } });
  [, url, token] = await tend.waitForOutput(/metrics on (http:\/\/\S+\/)\?token=([\w-]+)/, 20_000);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.route('**/*', (route) =>
    route.request().url().startsWith(url) ? route.continue() : route.abort('blockedbyclient'),
  );
}, 60_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await stopAllTends();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!existsSync(CHROMIUM))('the dashboard, read', () => {
  it('charts CPU and memory per service, marks restarts on a timeline, lists templates (1400 px)', async () => {
    await page.goto(`${url}?token=${token}`);
    await expect.poll(() => page.locator('#app-name').textContent()).toBe('shop');
    // a line per running service in both charts once a few samples are in
    await expect
      .poll(() => page.locator('#cpu-chart polyline').count(), { timeout: 20_000 })
      .toBeGreaterThanOrEqual(2);
    await expect.poll(() => page.locator('#mem-chart polyline').count()).toBeGreaterThanOrEqual(2);
    await expect.poll(() => page.locator('#legend').textContent()).toMatch(/burner \d+\.\d% · [\d.]+ [KM]iB/);
    // the busy loop shows: CPU and memory cells in its row
    await expect
      .poll(() => page.locator('tr[data-service="burner"] .cpu').textContent(), { timeout: 15_000 })
      .toMatch(/^[1-9]\d*\.\d%$/);
    expect(await page.locator('tr[data-service="burner"] .mem').textContent()).toMatch(/^[\d.]+ [KM]iB$/);
    // each crash of the worker is a mark in its lane
    await expect
      .poll(() => page.locator('#restarts circle').count(), { timeout: 15_000 })
      .toBeGreaterThanOrEqual(2);
    expect(await page.locator('#restarts svg text').first().textContent()).toBe('worker');
    expect(await page.locator('#restarts circle title').first().textContent()).toMatch(/^worker exit 1 at /);
    // the template, where it renders and when it last did
    const tpl = page.locator('#templates');
    await expect.poll(() => tpl.textContent()).toMatch(/web-frontend\s*etc\/web\.conf/);
    await page.screenshot({ path: join(RESULTS, 'dashboard-1400.png'), fullPage: true });
    expect(await tpl.textContent()).toMatch(/rendered · rendered \d+s ago · from .*web\.conf\.tmpl/);
    // the log view colours each service as the echo does, the same colour as its swatch in the table
    await expect
      .poll(() => page.locator('#logs .svc').filter({ hasText: 'web-frontend' }).count(), { timeout: 10_000 })
      .toBeGreaterThan(0);
    const colourOf = (sel: string) =>
      page
        .locator(sel)
        .first()
        .evaluate((e) => (globalThis as unknown as Css).getComputedStyle(e).color);
    // (rows are redrawn every second: read again until one read sees an attached row)
    const logColour = await colourOf('#logs .svc:text("web-frontend |")');
    expect(logColour).toMatch(/^rgb/);
    await expect.poll(() => colourOf('tr[data-service="web-frontend"] .swatch')).toBe(logColour);
    await expect.poll(() => colourOf('tr[data-service="burner"] .swatch')).toMatch(/^rgb/);
    expect(await colourOf('tr[data-service="burner"] .swatch')).not.toBe(logColour);
    // the event feed tells each crash in one line, without the stale "restarting in" on the next states
    await expect
      .poll(() => page.locator('#events').textContent())
      .toMatch(/worker exited 1 · restart \d+ (in \S+|now)/);
    expect(await page.locator('#events').textContent()).not.toMatch(
      /worker → (starting|running).*restarting in/,
    );
    const st = status();
    expect(new Set(st.services.map((s) => s.colour)).size).toBe(3);
    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: join(RESULTS, 'dashboard-1400.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('does not wrap at 1000 px', async () => {
    await page.setViewportSize({ width: 1000, height: 1000 });
    await page.waitForTimeout(300);
    // nothing wider than the window, and every header and service row on one line
    await page.screenshot({ path: join(RESULTS, 'dashboard-1000.png'), fullPage: true });
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1000);
    const heights = await page
      .locator('#services th')
      .evaluateAll((ths) => ths.map((t) => t.getBoundingClientRect().height));
    expect(new Set(heights.map((h) => Math.round(h))).size).toBe(1);
    const table = await page
      .locator('#services')
      .evaluate((t) => ({ w: t.scrollWidth, room: t.parentElement!.clientWidth }));
    expect(table.w).toBeLessThanOrEqual(table.room);
    // the text of each cell but the state's (its reason goes below the badge) stands on one line
    const lines = await page.locator('#services tbody td:not(.state-cell)').evaluateAll((tds) =>
      tds.map((td) => {
        const doc = (globalThis as unknown as { document: { createRange(): Rangeish } }).document;
        const r = doc.createRange();
        r.selectNodeContents(td);
        // boxes on one line may sit a few pixels apart (a button's padding): a new line is 10 px further down
        const tops = [...r.getClientRects()]
          .filter((x) => x.width > 0)
          .map((x) => x.top)
          .sort((a, b) => a - b);
        return tops.filter((t, i) => i === 0 || t - tops[i - 1] > 10).length;
      }),
    );
    expect(lines.length).toBeGreaterThan(0);
    expect(Math.max(...lines)).toBe(1);
    await page.screenshot({ path: join(RESULTS, 'dashboard-1000.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
