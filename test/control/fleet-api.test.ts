/**
 * `GET /api/fleet`, the data of the dashboard's fleet page: what `tend fleet --json` prints, read by a running tend
 * from its own store (a real etcd), plus whether that tend publishes. Same access rules as /api/status: the unix
 * socket, or the token over TCP. A store that does not answer is a 503 within the read's bound, not a hang; a
 * store that cannot hold the view says so in the answer.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { socketPathOf } from '../../src/control/attach.js';
import { fleetReading } from '../../src/fleet/index.js';
import { openKv } from '../../src/kv/index.js';
import { runTend, startTend, stopAllTends, type TendProcess } from '../helpers/cli.js';
import { type EtcdHarness, freePort, startEtcd } from '../helpers/etcd.js';
import { waitFor } from '../helpers/wait.js';
import { http } from './http.js';

let etcd: EtcdHarness;
let direct: Etcd3;
const dirs: string[] = [];

beforeAll(async () => {
  etcd = await startEtcd();
  direct = new Etcd3({ hosts: `http://${etcd.endpoint}` });
});
afterEach(async () => {
  await stopAllTends();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
afterAll(async () => {
  direct?.close();
  await etcd?.close();
});

function project(kvUrl: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tend-fleetapi-'));
  dirs.push(dir);
  writeFileSync(
    join(dir, 'tend.yaml'),
    `name: shop
kv: ${kvUrl}
services:
  web:
    command: exec sleep 3600
    templates:
      - { source: web.tmpl, destination: etc/web.conf }
`,
  );
  writeFileSync(join(dir, 'web.tmpl'), 'msg={{ key "app/msg" }}\n');
  return dir;
}

async function up(dir: string, env: NodeJS.ProcessEnv, http = false): Promise<TendProcess> {
  const tend = startTend(['up', ...(http ? ['--http', '127.0.0.1:0'] : [])], { cwd: dir, env });
  await tend.waitForOutput(/app UP/, 30_000);
  return tend;
}

interface Reading {
  app?: string;
  publishing: boolean;
  unsupported?: string;
  self: { pid: number; state_dir: string };
  entries: Array<{
    host: string;
    pid: number;
    instance: string;
    state_dir: string;
    app_state: string;
    services: Array<{ state: string }>;
  }>;
  stale: string[];
  errors: string[];
}
const sock = (dir: string) => ({ socketPath: socketPathOf(join(dir, '.tend')) });
const fleetOf = async (dir: string) => {
  const r = await http(sock(dir), '/api/fleet');
  expect(r.status, r.text).toBe(200);
  return r.json<Reading>();
};

describe('GET /api/fleet on etcd', () => {
  it('answers what tend fleet --json prints, says whether this tend publishes, and needs the token over TCP', async () => {
    const ns = `fleetapi${Date.now()}/`;
    await direct.put(`${ns}app/msg`).value('v1');
    const url = `etcd://${etcd.endpoint}/${ns}`;
    const a = project(url);
    const b = project(url);
    const off = project(url);
    const on = { TEND_FLEET: 'on', TEND_FLEET_TTL_MS: '3000' };
    const ta = await up(a, { ...on, TEND_FLEET_NAME: 'host-a' }, true);
    const [, base, token] = ta.output().match(/metrics on (http:\/\/\S+\/)\?token=([\w-]+)/) ?? [];
    await up(b, { ...on, TEND_FLEET_NAME: 'host-b' });
    // a tend of the same app that does not publish still reads the fleet
    await up(off, {});
    // not a status document: named in errors, as tend fleet does
    await direct.put(`${ns}fleet/shop/junk`).value('not json');

    // both listed and at rest (documents are rewritten only on change: the two reads below see the same ones)
    await waitFor(
      async () => {
        const v = await fleetOf(a);
        return (
          v.entries.length === 2 &&
          v.entries.every((e) => e.app_state === 'UP' && e.services.every((s) => s.state === 'running'))
        );
      },
      { what: 'both tends listed, UP' },
    );
    const mine = await fleetOf(a);
    expect(mine.app).toBe('shop');
    expect(mine.publishing).toBe(true);
    expect(mine.entries.map((e) => e.host)).toEqual(['host-a', 'host-b']);
    // this tend's own entry is the one with its pid and state_dir
    const self = mine.entries.filter((e) => e.pid === mine.self.pid && e.state_dir === mine.self.state_dir);
    expect(self.map((e) => e.host)).toEqual(['host-a']);
    expect(mine.self.pid).toBe(ta.proc.pid);
    expect(mine.errors).toEqual([expect.stringMatching(/^fleet\/shop\/junk: not JSON/)]);

    // the same documents as `tend fleet --json`
    const cli = JSON.parse(runTend(['fleet', '--json'], { cwd: b }).stdout) as Reading;
    expect(mine.entries).toEqual(cli.entries);
    expect(mine.stale).toEqual(cli.stale);
    expect(mine.errors).toEqual(cli.errors);

    const theirs = await fleetOf(off);
    expect(theirs.publishing).toBe(false);
    expect(theirs.entries.map((e) => e.host)).toEqual(['host-a', 'host-b']);
    expect(theirs.entries.some((e) => e.pid === theirs.self.pid)).toBe(false);
    // every app in the store, or another one
    expect((await http(sock(off), '/api/fleet?all=1')).json<Reading>().entries).toHaveLength(2);
    const other = (await http(sock(off), '/api/fleet?app=billing')).json<Reading>();
    expect([other.app, other.entries]).toEqual(['billing', []]);

    // TCP: as /api/status, the token or nothing
    const target = { url: base ?? '' };
    const refused = await http(target, '/api/fleet');
    expect(refused.status).toBe(401);
    expect(refused.text).not.toContain('host-a');
    const wrong = await http(target, '/api/fleet', { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    const ok = await http(target, '/api/fleet', { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']).toMatch(/^application\/json/);
    expect(ok.json<Reading>().entries.map((e) => e.host)).toEqual(['host-a', 'host-b']);
    const post = await http(target, '/api/fleet', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(post.status).toBe(405);
  }, 120_000);

  it('answers 503 when the store does not answer, within the bound', async () => {
    // nothing listens on this port: every request of the etcd client fails or waits
    const dead = `etcd://127.0.0.1:${await freePort()}/x/`;
    const dir = project(dead);
    // the template cannot render without the store: the app comes up only once it is dropped
    writeFileSync(
      join(dir, 'tend.yaml'),
      `name: shop
kv: ${dead}
services:
  web:
    command: exec sleep 3600
`,
    );
    await up(dir, {});
    const t0 = Date.now();
    const r = await http(sock(dir), '/api/fleet');
    expect(r.status, r.text).toBe(503);
    expect(r.json<{ error: string }>().error).toMatch(
      /did not answer within 5s|cannot read the fleet from the KV store/,
    );
    expect(Date.now() - t0).toBeLessThan(15_000);
    // tend itself is fine
    expect((await http(sock(dir), '/api/status')).status).toBe(200);
  }, 60_000);
});

describe('fleetReading', () => {
  it('says plainly that a one-document file store cannot hold the view, without a write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-fleet-doc-'));
    const store = join(dir, 'kv.yaml');
    writeFileSync(store, 'app:\n  msg: v1\n');
    const kv = openKv(`file:${store}`, { env: {}, baseDir: dir });
    try {
      const r = await fleetReading(
        {
          kv,
          env: { TEND_FLEET: 'on' },
          plan: { file: join(dir, 'tend.yaml'), stateDir: join(dir, '.tend') } as never,
        },
        { app: 'shop' },
      );
      expect(r.publishing).toBe(false);
      expect(r.unsupported).toMatch(/not available on a file store that is one YAML\/JSON document/);
      expect(readFileSync(store, 'utf8')).toBe('app:\n  msg: v1\n');
      expect(r.entries).toEqual([]);
    } finally {
      await kv.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
