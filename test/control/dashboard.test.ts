/** The dashboard in Debian's chromium (playwright-core): loads, follows a crash live, restart changes the pid. */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusView } from '../../src/control/types.js';
import { runTend, startTend, stopAllTends, type TendProcess } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const CHROMIUM = '/usr/bin/chromium';
const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));

let dir: string;
let url: string;
let tend: TendProcess;
let browser: Browser | undefined;
let page: Page;
const errors: string[] = [];

const status = () => JSON.parse(runTend(['status', '--json'], { cwd: dir }).stdout) as StatusView;
const pidOf = (name: string) => status().services.find((s) => s.name === name)?.pid;
const cell = (name: string, cls: string) => page.locator(`tr[data-service="${name}"] .${cls}`);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tend-dash-'));
  writeFileSync(
    join(dir, 'tend.yaml'),
    `name: shop
services:
  db:
    command: exec sleep 600
  web:
    command: i=0; while :; do i=$((i+1)); echo "request $i served"; sleep 0.3; done
    after: [db]
  crashy:
    command: echo "crashy up"; exec sleep 600
    restart: { policy: never }
  slow:
    command: exec sleep 600
    ready: { exec: "test -f go", interval: 100ms, timeout: 60s }
`,
  );
  writeFileSync(join(dir, 'go'), '');
  tend = startTend(['up', '--http', '127.0.0.1:0'], { cwd: dir });
  url = (await tend.waitForOutput(/metrics on (http:\/\/\S+\/)/, 20_000))[1];
  await waitFor(() => status().services.every((s) => s.state === (s.name === 'slow' ? 'ready' : 'running')), {
    what: 'running',
    timeoutMs: 20_000,
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.on('pageerror', (e) => errors.push(e.message));
  // the page must work offline: anything not served by tend is a failure
  await page.route('**/*', (route) =>
    route.request().url().startsWith(url) ? route.continue() : route.abort('blockedbyclient'),
  );
}, 60_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await stopAllTends();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!existsSync(CHROMIUM))('dashboard', () => {
  it('loads and shows the app and every service with its state and pid', async () => {
    await page.goto(url);
    await expect.poll(() => page.locator('#app-state').textContent()).toBe('UP');
    await expect.poll(() => page.locator('#conn').textContent()).toBe('live');
    expect(await page.locator('#app-name').textContent()).toBe('shop');
    expect(await page.locator('#app-maint').isVisible()).toBe(false);
    for (const s of status().services) {
      await expect.poll(() => cell(s.name, 'state').textContent()).toBe(s.state);
      expect(await cell(s.name, 'pid').textContent()).toBe(String(s.pid));
    }
    // the log tail streams the services' output
    await expect
      .poll(() => page.locator('#logs').textContent(), { timeout: 10_000 })
      .toMatch(/request \d+ served/);
    expect(await page.locator('#timeline li').count()).toBeGreaterThan(0);
  });

  it('shows a crash within 2 s without a reload, and restart brings it back with a new pid', async () => {
    const pid = pidOf('crashy')!;
    await expect.poll(() => cell('crashy', 'pid').textContent()).toBe(String(pid));
    process.kill(pid, 'SIGKILL');
    const t0 = Date.now();
    await expect
      .poll(() => cell('crashy', 'state').textContent(), { timeout: 2000, interval: 50 })
      .toMatch(/^(exited|failed)$/);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(await cell('crashy', 'pid').textContent()).toBe('–');
    expect(await cell('crashy', 'exit').textContent()).toMatch(/SIGKILL/);
    // the app is not ready, and both the page and `tend status` say which service keeps it so
    await expect.poll(() => page.locator('#app-ready').textContent()).toBe('not ready: crashy exited');
    expect(runTend(['status'], { cwd: dir }).stdout.split('\n')[0]).toMatch(/ · not ready: crashy exited/);

    await page.locator('tr[data-service="crashy"] button[data-action="restart"]').click();
    await expect.poll(() => cell('crashy', 'state').textContent(), { timeout: 10_000 }).toBe('running');
    const revived = pidOf('crashy');
    expect(revived).toBeDefined();
    expect(revived).not.toBe(pid);
    await expect.poll(() => cell('crashy', 'pid').textContent()).toBe(String(revived));
  });

  it('clicking restart on a running service changes its pid', async () => {
    const before = pidOf('web')!;
    await page.locator('tr[data-service="web"] button[data-action="restart"]').click();
    await expect
      .poll(() => cell('web', 'pid').textContent(), { timeout: 10_000 })
      .not.toMatch(new RegExp(`^(${before}|–)$`));
    const shown = Number(await cell('web', 'pid').textContent());
    expect(shown).toBe(pidOf('web'));
    expect(await cell('web', 'restarts').textContent()).toBe('1');
    await page.locator('tr[data-service="web"] td').first().click();
    await expect.poll(() => page.locator('#log-service').inputValue()).toBe('web');
    await expect
      .poll(() => page.locator('#logs').textContent(), { timeout: 10_000 })
      .toMatch(/request \d+ served/);
    await expect.poll(() => page.locator('#events li').count()).toBeGreaterThan(3);

    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: join(RESULTS, 'dashboard.png'), fullPage: true });
    expect(existsSync(join(RESULTS, 'dashboard.png'))).toBe(true);
    expect(errors).toEqual([]);
  });

  it('shows maintenance mode as it changes', async () => {
    expect(runTend(['maintenance', 'on'], { cwd: dir }).code).toBe(0);
    await expect.poll(() => page.locator('#app-maint').isVisible()).toBe(true);
    // the `maintenance` event reaches the feed over SSE
    await expect.poll(() => page.locator('#events').textContent()).toMatch(/maintenance on/);
    expect(runTend(['maintenance', 'off'], { cwd: dir }).code).toBe(0);
    await expect.poll(() => page.locator('#app-maint').isVisible()).toBe(false);
    await expect.poll(() => page.locator('#events').textContent()).toMatch(/maintenance off/);
  });

  it('a restarted service that is not ready yet is neither green nor shown with its old health ok', async () => {
    await expect.poll(() => cell('slow', 'health').textContent()).toBe('ok');
    const badge = page.locator('tr[data-service="slow"] .badge.state');
    await expect.poll(() => badge.getAttribute('class')).toMatch(/\bs-ready\b/);
    rmSync(join(dir, 'go'));
    const before = pidOf('slow');
    expect(runTend(['restart', 'slow'], { cwd: dir }).code).toBe(0);
    await expect
      .poll(() => cell('slow', 'pid').textContent(), { timeout: 10_000 })
      .not.toMatch(new RegExp(`^(${before}|–)$`));
    expect(status().services.find((s) => s.name === 'slow')).toMatchObject({
      state: 'running',
      ready: false,
    });
    await expect.poll(() => cell('slow', 'state').textContent()).toBe('running');
    expect(await badge.getAttribute('class')).not.toMatch(/\bs-running\b/);
    expect(await cell('slow', 'health').textContent()).toBe('pending');
    writeFileSync(join(dir, 'go'), '');
    await expect.poll(() => cell('slow', 'state').textContent(), { timeout: 10_000 }).toBe('ready');
    await expect.poll(() => cell('slow', 'health').textContent()).toBe('ok');
  });

  // last: it ends tend
  it('greys the page and says tend is not running once tend exits', async () => {
    expect(await page.locator('#gone').isVisible()).toBe(false);
    tend.kill('SIGTERM');
    await tend.exit();
    await expect.poll(() => page.locator('#gone').isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await page.locator('#gone').textContent()).toMatch(/^tend is not running/);
    expect(await page.locator('body').getAttribute('class')).toMatch(/\bgone\b/);
    expect(await page.locator('#app-ready').textContent()).toBe('tend is not running');
    expect(errors).toEqual([]);
  });
});
