import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type KvBackend, KvError, type Lease, openKv } from '../../src/kv/index.js';
import { collect, eventually, sleep } from './collect.js';
import { type FakeConsul, fixture, type Recorded, startFakeConsul } from './fake-consul.js';

const kvFx = fixture<Record<string, Recorded>>('kv.json');
const prefixFx = fixture<{ sequence: Recorded[] }>('blocking-prefix.json');
const keyFx = fixture<{ sequence: Recorded[]; indexZero: Recorded }>('blocking-key.json');
const sessionFx = fixture<Record<string, Recorded>>('session.json');

const TOKEN = 'b1gs3cr3t-token';
const timing = { minQueryIntervalMs: 10, backoffInitialMs: 20, backoffMaxMs: 200, requestTimeoutMs: 2000 };

let fake: FakeConsul;
const open: KvBackend[] = [];

function kv(extra: Partial<typeof timing> = {}): KvBackend {
  const store = openKv(`consul://${fake.address}/app/?dc=dc1&wait=2s`, {
    env: { CONSUL_HTTP_TOKEN: TOKEN },
    timing: { ...timing, ...extra },
  });
  open.push(store);
  return store;
}

beforeEach(async () => {
  fake = await startFakeConsul();
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.close()));
  await fake.close();
});

describe('consul backend: KV', () => {
  it('gets a key (base64 value, token header, dc) and reads a 404 as absent', async () => {
    const store = kv();
    fake.queue('GET /v1/kv/app/config/port', kvFx.get);
    fake.queue('GET /v1/kv/app/config/nope', kvFx.getMissing);
    fake.queue('GET /v1/kv/app/config/empty', kvFx.getEmptyValue);
    expect(await store.get('config/port')).toBe('8080');
    expect(await store.get('config/nope')).toBeUndefined();
    expect(await store.get('config/empty')).toBe('');
    for (const r of fake.requests) {
      expect(r.headers['x-consul-token']).toBe(TOKEN);
      expect(r.query.get('dc')).toBe('dc1');
    }
    expect(store.url).not.toContain(TOKEN);
    expect(store.status().connected).toBe(true);
  });

  it('lists a prefix with ?recurse, leaving out folder keys and the namespace', async () => {
    const store = kv();
    fake.queue('GET /v1/kv/app/config/', kvFx.recurse);
    expect(await store.list('config/')).toEqual([
      { key: 'config/host', value: 'db.internal', modifyIndex: 9 },
      { key: 'config/leader', value: 'v1', modifyIndex: 14 },
      { key: 'config/port', value: '8080', modifyIndex: 10 },
    ]);
    expect(fake.requests[0].query.has('recurse')).toBe(true);
    fake.queue('GET /v1/kv/app/other', kvFx.getMissing);
    expect(await store.list('other')).toEqual([]);
  });

  it('puts raw values, deletes keys and prefixes, and escapes key segments', async () => {
    const store = kv();
    fake.queue('PUT /v1/kv/app/config/port', kvFx.putOk);
    await store.put('config/port', '9090');
    fake.queue('PUT /v1/kv/app/odd/a%3Fb%23c', kvFx.putOk);
    await store.put('odd/a?b#c', 'x');
    fake.queue('DELETE /v1/kv/app/config/port', kvFx.deleteOk);
    await store.delete('config/port');
    fake.queue('DELETE /v1/kv/app/config/', kvFx.deleteOk);
    await store.delete('config/', { prefix: true });
    const [put, odd, del, delTree] = fake.requests;
    expect(put.body).toBe('9090');
    expect(odd.path).toBe('/v1/kv/app/odd/a%3Fb%23c');
    expect(del.query.has('recurse')).toBe(false);
    expect(delTree.query.has('recurse')).toBe(true);
  });

  it('rejects with errors naming the URL: ACL denial, unreachable agent', async () => {
    const store = kv();
    fake.queue('GET /v1/kv/app/secret', kvFx.aclDenied);
    const denied = await store.get('secret').catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(KvError);
    expect(denied).toMatchObject({ code: 'denied' });
    expect((denied as Error).message).toContain(`consul://${fake.address}/app/`);

    const gone = openKv('consul://127.0.0.1:1/', { env: {}, timing });
    open.push(gone);
    const err = await gone.get('k').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'unavailable' });
    expect((err as Error).message).toMatch(/^consul:\/\/127\.0\.0\.1:1: get k: Consul unreachable/);
    expect(gone.status()).toMatchObject({ connected: false });
  });
});

describe('consul backend: blocking queries', () => {
  it('follows the index: same index → nothing, higher → change, lower → reset to 0', async () => {
    const store = kv();
    const route = 'GET /v1/kv/app/config/';
    fake.queue(route, ...prefixFx.sequence);
    const c = collect();
    const w = store.watch({ keys: [], prefixes: ['config/'] }, c.onChange);
    await w.synced();
    await eventually(() => fake.requestsTo(route).length >= 6, 5000, 'six queries');
    await sleep(50);
    const sent = fake.requestsTo(route).slice(0, 6);
    expect(sent.map((r) => r.query.get('index'))).toEqual([null, '10', '10', '12', null, '5']);
    expect(sent.map((r) => r.query.get('wait'))).toEqual([null, '2s', '2s', '2s', null, '2s']);
    for (const r of sent) {
      expect(r.query.has('recurse')).toBe(true);
      expect(r.headers['x-consul-token']).toBe(TOKEN);
    }
    // response 2 (same index) reported nothing; 3 the new port; 4 (after the restore) the old state
    expect(c.batches).toEqual([
      [{ key: 'config/port', value: '9090' }],
      [
        { key: 'config/host', value: undefined },
        { key: 'config/port', value: '8080' },
      ],
    ]);
    await w.close();
  });

  it('blocks on the index of a 404, and reports creation and deletion of a key', async () => {
    const store = kv();
    const route = 'GET /v1/kv/app/feature/flag';
    fake.queue(route, ...keyFx.sequence);
    const c = collect();
    const w = store.watch({ keys: ['feature/flag'], prefixes: [] }, c.onChange);
    await eventually(() => fake.requestsTo(route).length >= 4, 5000, 'four queries');
    expect(fake.requestsTo(route).map((r) => r.query.get('index'))).toEqual([null, '7', '9', '11']);
    expect(c.batches).toEqual([
      [{ key: 'feature/flag', value: 'on' }],
      [{ key: 'feature/flag', value: undefined }],
    ]);
    expect(fake.requestsTo(route)[0].query.has('recurse')).toBe(false);
    await w.close();
  });

  it('never blocks on an index below 1: X-Consul-Index 0 is used as 1', async () => {
    const store = kv();
    const route = 'GET /v1/kv/app/zero';
    fake.queue(route, keyFx.indexZero);
    const w = store.watch({ keys: ['zero'], prefixes: [] }, () => {});
    await eventually(() => fake.requestsTo(route).length >= 2, 5000, 'second query');
    expect(fake.requestsTo(route)[1].query.get('index')).toBe('1');
    await w.close();
  });

  it('rate-limits a loop against a server that answers at once, every time', async () => {
    const store = kv({ minQueryIntervalMs: 100 });
    const route = 'GET /v1/kv/app/spin';
    fake.always(route, () => ({
      status: 200,
      headers: { 'X-Consul-Index': '3', 'Content-Type': 'application/json' },
      body: [{ LockIndex: 0, Key: 'app/spin', Flags: 0, Value: 'djE=', CreateIndex: 3, ModifyIndex: 3 }],
    }));
    const w = store.watch({ keys: ['spin'], prefixes: [] }, () => {});
    await sleep(1000);
    await w.close();
    const count = fake.requestsTo(route).length;
    expect(count).toBeGreaterThanOrEqual(2);
    // 1 s at one query per 100 ms at most; an unthrottled loop would make hundreds
    expect(count).toBeLessThanOrEqual(12);
  });

  it('reports an outage, keeps retrying, and picks up what changed meanwhile', async () => {
    const store = kv();
    const route = 'GET /v1/kv/app/config/port';
    fake.queue(route, kvFx.get);
    const statuses: boolean[] = [];
    store.onStatus((s) => statuses.push(s.connected));
    const c = collect();
    const w = store.watch({ keys: ['config/port'], prefixes: [] }, c.onChange);
    await w.synced();
    await eventually(() => fake.requestsTo(route).length >= 2, 5000, 'blocking query');
    fake.setDown(true);
    await eventually(() => !store.status().connected, 5000, 'outage');
    expect(store.status().error).toMatch(/unreachable/);
    await expect(store.get('config/port')).rejects.toThrow(KvError);
    const changed: Recorded = {
      status: 200,
      headers: { 'X-Consul-Index': '20', 'Content-Type': 'application/json' },
      body: [
        {
          LockIndex: 0,
          Key: 'app/config/port',
          Flags: 0,
          Value: 'OTA5MA==',
          CreateIndex: 8,
          ModifyIndex: 20,
        },
      ],
    };
    fake.queue(route, changed);
    fake.setDown(false);
    await c.until('config/port', '9090');
    expect(store.status().connected).toBe(true);
    // (a new error while down is reported too; the transitions are what matter here)
    expect(statuses.filter((v, i) => i === 0 || v !== statuses[i - 1])).toEqual([true, false, true]);
    // after an error the loop starts over with a non-blocking read
    const afterOutage = fake
      .requestsTo(route)
      .find((r) => r.query.get('index') === null && r !== fake.requests[0]);
    expect(afterOutage).toBeDefined();
    await w.close();
  });

  it('notices indexes that went backwards during an outage (a restored snapshot) and trusts the new read', async () => {
    const store = kv();
    const route = 'GET /v1/kv/app/config/port';
    fake.queue(route, kvFx.get);
    const c = collect();
    const w = store.watch({ keys: ['config/port'], prefixes: [] }, c.onChange);
    await eventually(() => fake.requestsTo(route).length >= 2, 5000, 'blocking query');
    fake.setDown(true);
    await eventually(() => !store.status().connected, 5000, 'outage');
    const restored: Recorded = {
      status: 200,
      headers: { 'X-Consul-Index': '4', 'Content-Type': 'application/json' },
      body: [
        { LockIndex: 0, Key: 'app/config/port', Flags: 0, Value: 'OTA5MA==', CreateIndex: 3, ModifyIndex: 3 },
      ],
    };
    fake.queue(route, restored, restored);
    fake.setDown(false);
    await c.until('config/port', '9090');
    await eventually(() => fake.requestsTo(route).some((r) => r.query.get('index') === '4'), 5000, 'index 4');
    const indexes = fake.requestsTo(route).map((r) => r.query.get('index'));
    // after the lower index: one more non-blocking read, then blocking on the new index
    expect(indexes.slice(-3)).toEqual([null, null, '4']);
    await w.close();
  });
});

describe('consul backend: sessions as leases', () => {
  it('creates a session with a TTL and delete behaviour, acquires keys with it, renews it, and destroys it', async () => {
    const store = kv();
    const id = 'adf4238a-882b-9ddc-4a9d-5b6758e4159e';
    fake.queue('PUT /v1/session/create', sessionFx.create);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let lease: Lease;
    try {
      lease = await store.grantLease(3000);
      expect(lease.id).toBe(id);
      // Consul's minimum TTL is 10 s
      expect(lease.ttlMs).toBe(10_000);
      const created = JSON.parse(fake.requestsTo('PUT /v1/session/create')[0].body);
      expect(created).toMatchObject({ TTL: '10s', Behavior: 'delete', LockDelay: '0s' });

      fake.queue('PUT /v1/kv/app/services/web/1', kvFx.putOk);
      await store.put('services/web/1', '10.0.0.1:8080', { lease });
      expect(fake.requestsTo('PUT /v1/kv/app/services/web/1')[0].query.get('acquire')).toBe(id);
      fake.queue('PUT /v1/kv/app/services/web/2', kvFx.putRefused);
      await expect(store.put('services/web/2', 'x', { lease })).rejects.toMatchObject({ code: 'conflict' });

      // renewed at half the TTL
      fake.queue(`PUT /v1/session/renew/${id}`, sessionFx.renew);
      await vi.advanceTimersByTimeAsync(4_900);
      expect(fake.requestsTo(`PUT /v1/session/renew/${id}`)).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(200);
      await until(() => fake.requestsTo(`PUT /v1/session/renew/${id}`).length === 1);
      expect(fake.requestsTo(`PUT /v1/session/renew/${id}`)[0].headers['x-consul-token']).toBe(TOKEN);
    } finally {
      vi.useRealTimers();
    }
    fake.queue(`PUT /v1/session/destroy/${id}`, sessionFx.destroy);
    await lease.revoke();
    expect(fake.requestsTo(`PUT /v1/session/destroy/${id}`)).toHaveLength(1);
  });

  it('reports a session that Consul no longer knows as lost', async () => {
    const store = kv();
    const id = 'adf4238a-882b-9ddc-4a9d-5b6758e4159e';
    fake.queue('PUT /v1/session/create', sessionFx.create);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const lease = await store.grantLease(10_000);
      let lost = 0;
      lease.onLost(() => lost++);
      fake.queue(`PUT /v1/session/renew/${id}`, sessionFx.renewMissing);
      await vi.advanceTimersByTimeAsync(5_000);
      await until(() => lost === 1);
      // no more renewals once lost
      await vi.advanceTimersByTimeAsync(20_000);
      expect(fake.requestsTo(`PUT /v1/session/renew/${id}`)).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });
});

/** Polls real I/O while setTimeout is faked (Date and setImmediate are real). */
async function until(check: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setImmediate(r));
  }
}
