/**
 * The dashboard's fleet page in Debian's chromium: every tend of the app that publishes in the store (a real etcd),
 * with its host, version, state, services, the content hash of each template and when it rendered, the rollout a
 * tend reports, and this tend marked. What the store holds is anyone's who may write under `fleet/`: a hostile
 * document (markup in its host, service and file names, junk where objects belong) shows as text and runs
 * nothing. A real rollout over two tends shows as it happens. A tend whose store holds no document says plainly
 * that fleet is off; one whose store does not answer says that. Screenshot in test-results/.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTend, stopAllTends, type TendProcess } from '../helpers/cli.js';
import { type EtcdHarness, freePort, startEtcd } from '../helpers/etcd.js';

const CHROMIUM = '/usr/bin/chromium';
const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));

let etcd: EtcdHarness;
let direct: Etcd3;
let browser: Browser | undefined;
const dirs: string[] = [];
const errors: string[] = [];
let ns: string;
let a: string;
let urlA: string;
let tokenA: string;

function project(kvUrl: string, rollout = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'tend-fleetview-'));
  dirs.push(dir);
  writeFileSync(
    join(dir, 'tend.yaml'),
    `name: shop
kv: ${kvUrl}
services:
  web:
    command: exec sleep 3600
${rollout}    templates:
      - { source: web.tmpl, destination: etc/web.conf, on_change: restart }
  worker:
    command: exec sleep 3600
`,
  );
  writeFileSync(join(dir, 'web.tmpl'), 'msg={{ key "app/msg" }}\n');
  return dir;
}

async function up(dir: string, env: NodeJS.ProcessEnv): Promise<[TendProcess, string, string]> {
  const tend = startTend(['up', '--http', '127.0.0.1:0'], { cwd: dir, env });
  const [, url, token] = await tend.waitForOutput(/metrics on (http:\/\/\S+\/)\?token=([\w-]+)/, 30_000);
  await tend.waitForOutput(/app UP/, 30_000);
  return [tend, url ?? '', token ?? ''];
}

async function open(url: string): Promise<Page> {
  if (!browser) throw new Error('no browser');
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (e) => errors.push(e.message));
  // offline: nothing but tend answers (a hostile <img src> would be blocked, and counted below)
  const elsewhere: string[] = [];
  await page.route('**/*', (route) => {
    if (route.request().url().startsWith(url)) return route.continue();
    elsewhere.push(route.request().url());
    return route.abort('blockedbyclient');
  });
  (page as unknown as { elsewhere: string[] }).elsewhere = elsewhere;
  return page;
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const HOSTILE = '<img src=x onerror="window.pwned=1">';

beforeAll(async () => {
  etcd = await startEtcd();
  direct = new Etcd3({ hosts: `http://${etcd.endpoint}` });
  ns = `fleetview${Date.now()}/`;
  await direct.put(`${ns}app/msg`).value('v1');
  const url = `etcd://${etcd.endpoint}/${ns}`;
  a = project(url);
  const b = project(url);
  const on = { TEND_FLEET: 'on' };
  [, urlA, tokenA] = await up(a, { ...on, TEND_FLEET_NAME: 'host-a' });
  await up(b, { ...on, TEND_FLEET_NAME: 'host-b' });
  const dest = join(a, 'etc/web.conf');
  const now = new Date().toISOString();
  // another tend runs another config of host-a's file, and reports a rollout
  await direct.put(`${ns}fleet/shop/host-c`).value(
    JSON.stringify({
      schema: 1,
      app: 'shop',
      host: 'host-c',
      instance: 'c0ffee',
      pid: 4242,
      version: '0.9.1',
      state_dir: '/srv/shop/.tend',
      started_at: now,
      ttl_ms: 15000,
      app_state: 'UP',
      services: [{ name: 'web', state: 'running', ready: false, restarts: 2 }],
      templates: [
        {
          service: 'web',
          destination: dest,
          state: 'rendered',
          hash: `sha256:${'ab'.repeat(32)}`,
          rendered_at: now,
        },
      ],
      rollouts: [{ service: 'web', phase: 'applying', hash: `sha256:${'ab'.repeat(32)}`, since: now }],
      updated_at: now,
    }),
  );
  // a hostile document: markup everywhere a name goes, junk where objects belong
  await direct.put(`${ns}fleet/shop/evil`).value(
    JSON.stringify({
      schema: 1,
      app: 'shop',
      host: HOSTILE,
      instance: '<b>x</b>',
      pid: '<script>window.pwned=2</script>',
      version: '</td><script>window.pwned=3</script>',
      state_dir: '<svg onload="window.pwned=4">',
      started_at: 'soon',
      app_state: 'UP" onmouseover="window.pwned=5',
      services: [
        {
          name: '<script>window.pwned=6</script>',
          state: '<img src=y onerror="window.pwned=7">',
          ready: true,
        },
        null,
        'web',
        { name: { toString: 1 }, state: ['x'] },
      ],
      templates: [
        { destination: '__proto__', hash: '<i>h</i>', rendered_at: '<b>' },
        { destination: '<a href="javascript:window.pwned=8">click</a>', hash: 42 },
      ],
      rollouts: { '<u>svc</u>': '<img src=z onerror="window.pwned=9">', constructor: { hash: '<s>' } },
      updated_at: 7,
    }),
  );
  await direct.put(`${ns}fleet/shop/junk`).value('<script>window.pwned=10</script>');
  if (existsSync(CHROMIUM)) {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
  }
}, 90_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await stopAllTends();
  direct?.close();
  await etcd?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!existsSync(CHROMIUM))('the fleet page', () => {
  it('lists every tend with its services, config hashes and rollout; a hostile document stays text', async () => {
    const page = await open(urlA);
    await page.goto(`${urlA}?token=${tokenA}#fleet`);
    await expect.poll(() => page.locator('#tab-fleet').getAttribute('class')).toBe('on');
    expect(await page.locator('main').isHidden()).toBe(true);
    const rows = page.locator('#fleet tbody tr');
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(4);
    const hosts = await page.locator('#fleet tbody tr .host').allTextContents();
    expect(hosts.sort()).toEqual([HOSTILE, 'host-a', 'host-b', 'host-c'].sort());

    // this tend, marked; its services and the hash of the file it rendered
    const self = page.locator('#fleet tbody tr.self');
    await expect.poll(() => self.count()).toBe(1);
    expect(await self.locator('.host').textContent()).toBe('host-a');
    expect(await self.locator('.tag').textContent()).toBe('this tend');
    const selfText = (await self.textContent()) ?? '';
    expect(selfText).toMatch(/webrunning/);
    expect(selfText).toMatch(/workerrunning/);
    expect(selfText).toContain(join(a, 'etc/web.conf'));
    const mine = sha(join(a, 'etc/web.conf')).slice(0, 12);
    expect(await self.locator('.hash').textContent()).toBe(mine);
    expect(selfText).toMatch(/\d+s ago/);
    expect(await page.locator('#fleet-note').textContent()).toBe('This tend publishes as host-a.');

    // host-c runs another config of the same file: the page says the configs differ, and on how many tends
    await expect.poll(() => page.locator('#fleet-count').textContent()).toBe('4 tends · configs differ');
    const configs = (await page.locator('#fleet-configs').textContent()) ?? '';
    expect(configs).toContain(`${mine} on 1 tend`);
    expect(configs).toContain(`${'ab'.repeat(6)} on 1 tend`);
    const c = rows.filter({ hasText: 'host-c' });
    expect(await c.textContent()).toMatch(/webrunning \(not ready\) ↻2/);
    // its rollout, in its row and in the page's notice
    expect(await c.locator('.rollout-item').textContent()).toMatch(
      /^web · applying · abababababab · \d+s ago$/,
    );
    expect(await page.locator('#fleet-rollouts').textContent()).toContain(
      'Rollout of web (abababababab): applying on host-c',
    );

    // the hostile document: every name as the text it is, nothing ran, nothing was fetched
    const evil = rows.filter({ hasText: 'onerror' });
    const evilText = (await evil.textContent()) ?? '';
    for (const s of [
      '<script>window.pwned=6</script>',
      '<img src=y onerror="window.pwned=7">',
      '</td><script>window.pwned=3</script>',
      '<a href="javascript:window.pwned=8">click</a>',
      '__proto__',
    ]) {
      expect(evilText).toContain(s);
    }
    expect(await evil.locator('td .reason').first().getAttribute('title')).toBe(
      'state_dir <svg onload="window.pwned=4">',
    );
    expect(
      await page.locator('#fleet img, #fleet script, #fleet svg, #fleet a, #fleet b, #fleet u').count(),
    ).toBe(0);
    expect(await page.locator('#fleet-skipped').textContent()).toMatch(
      /skipped: fleet\/shop\/junk: not JSON/,
    );
    await page.waitForTimeout(500);
    expect(await page.evaluate('window.pwned')).toBeUndefined();
    expect((page as unknown as { elsewhere: string[] }).elsewhere).toEqual([]);
    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: join(RESULTS, 'fleet-1400.png'), fullPage: true });

    // back to this tend's page, and to the fleet again from the tab
    await page.locator('#tab-tend').click();
    await expect.poll(() => page.locator('main').isVisible()).toBe(true);
    expect(await page.locator('#fleet-page').isHidden()).toBe(true);
    await page.locator('#tab-fleet').click();
    await expect.poll(() => rows.count()).toBe(4);

    // a tend leaves the fleet: the page follows without a reload
    await direct.delete().key(`${ns}fleet/shop/host-c`);
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(3);
    await expect.poll(() => page.locator('#fleet-count').textContent()).toBe('3 tends · one config');
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);

  it('shows a real rollout: each tend applies the change in turn, and the page says where it is', async () => {
    const rns = `fleetroll${Date.now()}/`;
    await direct.put(`${rns}app/msg`).value('v1');
    const url = `etcd://${etcd.endpoint}/${rns}`;
    const rollout = '    rollout: { max_parallel: 1, ready_timeout: 20s }\n';
    const x = project(url, rollout);
    const y = project(url, rollout);
    const on = { TEND_FLEET: 'on' };
    const [, urlX, tokenX] = await up(x, { ...on, TEND_FLEET_NAME: 'roll-x' });
    await up(y, { ...on, TEND_FLEET_NAME: 'roll-y' });
    const page = await open(urlX);
    await page.goto(`${urlX}?token=${tokenX}#fleet`);
    const rows = page.locator('#fleet tbody tr');
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(2);
    await direct.put(`${rns}app/msg`).value('v2');
    // both applied it, one after the other: the same new content on both rows, the rollout done on both
    await expect
      .poll(() => page.locator('#fleet-rollouts').textContent(), { timeout: 40_000 })
      .toMatch(/^Last rollout of web \([0-9a-f]{12}\): done on roll-[xy], roll-[xy]$/);
    const hash = sha(join(x, 'etc/web.conf')).slice(0, 12);
    expect(readFileSync(join(x, 'etc/web.conf'), 'utf8')).toBe('msg=v2\n');
    expect(await page.locator('#fleet-rollouts').textContent()).toContain(`(${hash})`);
    expect(await rows.locator('.rollout-item').allTextContents()).toEqual([
      expect.stringMatching(new RegExp(`^web · done · ${hash} · \\d+s ago$`)),
      expect.stringMatching(new RegExp(`^web · done · ${hash} · \\d+s ago$`)),
    ]);
    expect(await rows.locator('.hash').allTextContents()).toEqual([hash, hash]);
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);

  it('says plainly that fleet is off, that it needs the token, and that the store does not answer', async () => {
    const empty = `empty${Date.now()}/`;
    await direct.put(`${empty}app/msg`).value('v1');
    const lone = project(`etcd://${etcd.endpoint}/${empty}`);
    const [, url, token] = await up(lone, {});
    const page = await open(url);
    await page.goto(`${url}#fleet`);
    await expect
      .poll(() => page.locator('#fleet-note').textContent())
      .toBe("The fleet view needs this tend's token (see above).");
    await page.goto(`${url}?token=${token}#fleet`);
    await expect
      .poll(() => page.locator('#fleet-note').textContent(), { timeout: 15_000 })
      .toMatch(/^Fleet is off: no tend of shop publishes in this store, this one included\. .*TEND_FLEET=on/);
    expect(await page.locator('#fleet tbody tr').count()).toBe(0);
    await page.close();

    // a store that does not answer: said, not an empty list and not a spinner forever
    const dead = mkdtempSync(join(tmpdir(), 'tend-fleetview-'));
    dirs.push(dead);
    writeFileSync(
      join(dead, 'tend.yaml'),
      `name: shop\nkv: etcd://127.0.0.1:${await freePort()}/x/\nservices:\n  web:\n    command: exec sleep 3600\n`,
    );
    const [, urlD, tokenD] = await up(dead, {});
    const pd = await open(urlD);
    await pd.goto(`${urlD}?token=${tokenD}#fleet`);
    await expect
      .poll(() => pd.locator('#fleet-note').textContent(), { timeout: 20_000 })
      .toMatch(
        /^The fleet cannot be read: (the KV store .* did not answer within 5s|cannot read the fleet from the KV store)/,
      );
    expect(await pd.locator('#fleet-note').getAttribute('class')).toBe('fleet-note bad');
    expect(errors).toEqual([]);
    await pd.close();
  }, 90_000);
});
