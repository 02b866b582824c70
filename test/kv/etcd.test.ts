import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type KvBackend, KvError, openKv } from '../../src/kv/index.js';
import { type EtcdHarness, startEtcd, startTcpProxy } from '../helpers/etcd.js';
import { collect, eventually, sleep, statusLog } from './collect.js';

let etcd: EtcdHarness;
/** a plain client, to change the store behind the backend's back */
let direct: Etcd3;
const open: KvBackend[] = [];
let nsCounter = 0;

const timing = { backoffInitialMs: 50, backoffMaxMs: 500, requestTimeoutMs: 3000 };

/** each test gets its own namespace, so tests cannot see each other's keys */
function kv(url = etcd.url): { store: KvBackend; ns: string } {
  const ns = `t${++nsCounter}/`;
  const store = openKv(`${url}/${ns}`, { env: {}, timing });
  open.push(store);
  return { store, ns };
}

beforeAll(async () => {
  etcd = await startEtcd();
  direct = new Etcd3({ hosts: `http://${etcd.endpoint}` });
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.close()));
});

afterAll(async () => {
  direct?.close();
  await etcd?.close();
});

describe('etcd backend', () => {
  it('gets, lists, puts and deletes under its namespace', async () => {
    const { store, ns } = kv();
    await store.put('config/web/port', '8080');
    await store.put('config/web/host', 'example.org');
    await store.put('config/web2', 'x');
    expect(await store.get('config/web/port')).toBe('8080');
    expect(await direct.get(`${ns}config/web/port`).string()).toBe('8080');
    expect(await store.get('missing')).toBeUndefined();
    const listed = await store.list('config/web');
    expect(listed.map(({ key, value }) => ({ key, value }))).toEqual([
      { key: 'config/web/host', value: 'example.org' },
      { key: 'config/web/port', value: '8080' },
      { key: 'config/web2', value: 'x' },
    ]);
    expect(listed[0].modifyIndex).toBeGreaterThan(0);
    expect((await store.list('')).length).toBe(3);
    await store.delete('config/web2');
    expect(await store.get('config/web2')).toBeUndefined();
    await store.delete('config/', { prefix: true });
    expect(await store.list('')).toEqual([]);
    expect(store.status().connected).toBe(true);
  });

  it('watches a key and a prefix, reporting only real differences', async () => {
    const { store, ns } = kv();
    await store.put('app/a', '1');
    const c = collect();
    const w = store.watch({ keys: ['single'], prefixes: ['app/'] }, c.onChange);
    await w.synced();
    expect(c.all()).toEqual([]);
    await direct.put(`${ns}app/a`).value('2');
    await c.until('app/a', '2');
    await direct.put(`${ns}app/b/c`).value('new');
    await c.until('app/b/c', 'new');
    await direct.put(`${ns}single`).value('s');
    await c.until('single', 's');
    await direct.delete().key(`${ns}app/a`);
    await c.until('app/a', undefined);
    // same value again: etcd sends an event, but nothing changed
    await direct.put(`${ns}single`).value('s');
    await direct.put(`${ns}appendix`).value('outside');
    await direct.put(`${ns}single`).value('s2');
    await c.until('single', 's2');
    expect(c.all().filter((ch) => ch.key === 'single')).toEqual([
      { key: 'single', value: 's' },
      { key: 'single', value: 's2' },
    ]);
    expect(c.all().map((ch) => ch.key)).not.toContain('appendix');
    await w.close();
  });

  it('reports a key covered twice (key and prefix) once per change', async () => {
    const { store, ns } = kv();
    const c = collect();
    const w = store.watch({ keys: ['p/k'], prefixes: ['p/'] }, c.onChange);
    await w.synced();
    await direct.put(`${ns}p/k`).value('1');
    await c.until('p/k', '1');
    // let the second watcher's copy of the event arrive too
    await sleep(100);
    await direct.put(`${ns}p/k`).value('2');
    await c.until('p/k', '2');
    await sleep(200);
    expect(c.all()).toEqual([
      { key: 'p/k', value: '1' },
      { key: 'p/k', value: '2' },
    ]);
    await w.close();
  });

  it('stays exact through many deletions (deleted keys are forgotten once every watcher is past them)', async () => {
    const { store, ns } = kv();
    const c = collect();
    const w = store.watch({ keys: ['churn/7'], prefixes: ['churn/'] }, c.onChange);
    await w.synced();
    for (let batch = 0; batch < 3; batch++) {
      const puts = Array.from({ length: 100 }, (_, i) => ({
        request_put: { key: Buffer.from(`${ns}churn/${batch * 100 + i}`), value: Buffer.from('v') },
      }));
      await direct.kv.txn({ compare: [], success: puts, failure: [] });
    }
    await eventually(() => c.latest().size === 300, 10_000, '300 keys');
    await direct.delete().prefix(`${ns}churn/`);
    await eventually(() => [...c.latest().values()].every((v) => v === undefined), 10_000, '300 deletions');
    c.reset();
    await direct.put(`${ns}churn/7`).value('back');
    await c.until('churn/7', 'back');
    await sleep(100);
    expect(c.all()).toEqual([{ key: 'churn/7', value: 'back' }]);
    await w.close();
  });

  it('update() watches new keys from a silent baseline and drops old ones', async () => {
    const { store, ns } = kv();
    await store.put('a', '1');
    await store.put('b', '1');
    const c = collect();
    const w = store.watch({ keys: ['a'], prefixes: [] }, c.onChange);
    await w.synced();
    w.update({ keys: ['b'], prefixes: [] });
    await w.synced();
    expect(c.all()).toEqual([]);
    await direct.put(`${ns}a`).value('2');
    await direct.put(`${ns}b`).value('2');
    await c.until('b', '2');
    expect(c.latest().has('a')).toBe(false);
    await w.close();
  });

  it('rejects with an error naming the URL when etcd is unreachable, and never throws from watch', async () => {
    const store = openKv('etcd://u:pw@127.0.0.1:1/x/', { env: {}, timing });
    open.push(store);
    const err = await store.get('k').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KvError);
    expect((err as KvError).code).toBe('unavailable');
    expect((err as Error).message).toContain('etcd://u:***@127.0.0.1:1/x/');
    expect((err as Error).message).not.toContain('pw');
    await expect(store.list('')).rejects.toThrow(/127\.0\.0\.1:1/);
    const w = store.watch({ keys: ['k'], prefixes: ['p/'] }, () => {});
    await sleep(300);
    expect(store.status()).toMatchObject({ connected: false });
    expect(store.status().error).toMatch(/unreachable/);
    await w.close();
  });

  it('grants leases: revoke deletes the key, and so does the TTL once keep-alive stops', async () => {
    const { store, ns } = kv();
    const lease = await store.grantLease(1000);
    expect(lease.ttlMs).toBeGreaterThanOrEqual(1000);
    await store.put('services/web/1', 'a', { lease });
    expect(await store.get('services/web/1')).toBe('a');
    await lease.revoke();
    expect(await store.get('services/web/1')).toBeUndefined();

    const other = openKv(`${etcd.url}/${ns}`, { env: {}, timing });
    open.push(other);
    const kept = await other.grantLease(1000);
    let lost = false;
    kept.onLost(() => {
      lost = true;
    });
    await other.put('services/web/2', 'b', { lease: kept });
    // keep-alive works: the key outlives its TTL while the backend is open
    await sleep(2500);
    expect(await store.get('services/web/2')).toBe('b');
    expect(lost).toBe(false);
    // closing without revoking stops keep-alive; etcd expires the lease (its minimum TTL may exceed ours)
    await other.close();
    const deadline = Date.now() + 15_000;
    while ((await store.get('services/web/2')) !== undefined) {
      if (Date.now() > deadline) throw new Error('leased key did not expire');
      await sleep(200);
    }
    await expect(store.put('x', 'y', { lease: kept })).rejects.toThrow(/not ours/);
  });
});

describe('etcd backend through outages', () => {
  it('reconnects after etcd restarts and delivers a change made right after, exactly once', async () => {
    const { store, ns } = kv();
    await store.put('cfg/a', '1');
    const s = statusLog();
    store.onStatus(s.on);
    const c = collect();
    const w = store.watch({ keys: [], prefixes: ['cfg/'] }, c.onChange);
    await w.synced();
    expect(store.status().connected).toBe(true);

    try {
      await etcd.stop();
      await eventually(() => !store.status().connected, 10_000, 'disconnected status');
      await sleep(3000);
    } finally {
      await etcd.start();
    }
    await direct.put(`${ns}cfg/a`).value('2');
    await c.until('cfg/a', '2', 20_000);
    await eventually(() => store.status().connected, 10_000, 'connected status');
    await sleep(500);
    expect(c.all()).toEqual([{ key: 'cfg/a', value: '2' }]);
    const transitions = s.log.map((x) => x.connected);
    expect(transitions).toContain(false);
    expect(transitions.lastIndexOf(true)).toBeGreaterThan(transitions.indexOf(false));
    expect(s.log.find((x) => !x.connected)?.error).toMatch(/unreachable/);
    await w.close();
  });

  it('re-lists after its revision was compacted while it was cut off, and reports the difference', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: etcd.clientPort });
    try {
      const { store, ns } = kv(`etcd://${proxy.endpoint}`);
      await store.put('cfg/keep', 'same');
      await store.put('cfg/change', 'before');
      await store.put('cfg/gone', 'here');
      const c = collect();
      const w = store.watch({ keys: ['solo'], prefixes: ['cfg/'] }, c.onChange);
      await w.synced();

      proxy.cut();
      await eventually(() => !store.status().connected, 10_000, 'disconnected status');
      await direct.put(`${ns}cfg/change`).value('after');
      await direct.delete().key(`${ns}cfg/gone`);
      await direct.put(`${ns}cfg/added`).value('new');
      await direct.put(`${ns}solo`).value('s');
      for (let i = 0; i < 20; i++) await direct.put(`${ns}noise`).value(String(i));
      const last = await direct.put(`${ns}noise`).value('end');
      await direct.kv.compact({ revision: last.header.revision, physical: true });

      proxy.restore();
      await c.until('cfg/change', 'after', 20_000);
      await c.until('solo', 's');
      await eventually(() => c.latest().has('cfg/gone') && c.latest().has('cfg/added'), 5000, 'all changes');
      expect(Object.fromEntries(c.latest())).toEqual({
        'cfg/change': 'after',
        'cfg/gone': undefined,
        'cfg/added': 'new',
        solo: 's',
      });
      expect(c.all().length).toBe(4);

      // and it keeps watching from the re-listed revision
      await direct.put(`${ns}cfg/keep`).value('changed');
      await c.until('cfg/keep', 'changed');
      await w.close();
    } finally {
      await proxy.close();
    }
  });
});
