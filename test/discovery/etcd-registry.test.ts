/** The etcd registry against a real etcd: keys, leases, watches, expiry when the publisher dies. */
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDiscovery, type Discovery, type Registration } from '../../src/discovery/index.js';
import { kvRegistry } from '../../src/discovery/kv-registry.js';
import { type KvBackend, openKv } from '../../src/kv/index.js';
import { type EtcdHarness, startEtcd } from '../helpers/etcd.js';
import { waitFor } from '../helpers/wait.js';

let etcd: EtcdHarness;
let direct: Etcd3;
const stores: KvBackend[] = [];
const discoveries: Discovery[] = [];
let n = 0;

beforeAll(async () => {
  etcd = await startEtcd();
  direct = new Etcd3({ hosts: `http://${etcd.endpoint}` });
});

afterEach(async () => {
  await Promise.all(discoveries.splice(0).map((d) => d.close()));
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  direct?.close();
  await etcd?.close();
});

/** a store per tend, in a namespace of the test's own */
function namespace() {
  const ns = `reg${++n}/`;
  return {
    ns,
    open(): { kv: KvBackend; d: Discovery } {
      const kv = openKv(`${etcd.url}/${ns}`, {
        env: {},
        timing: { backoffInitialMs: 50, backoffMaxMs: 500 },
      });
      stores.push(kv);
      const d = createDiscovery(kvRegistry(kv, { retryMs: 50 }));
      discoveries.push(d);
      return { kv, d };
    },
  };
}

const reg = (o: Partial<Registration> = {}): Registration => ({
  id: 'api-host-8080',
  name: 'api',
  address: '10.1.2.3',
  port: 8080,
  tags: ['http'],
  meta: { zone: 'a' },
  ttlMs: 2000,
  node: 'host',
  status: 'passing',
  ...o,
});

describe('etcd registry', () => {
  it('writes <prefix>services/<name>/<id> as JSON under a lease, and deletes it on withdraw', async () => {
    const space = namespace();
    const { d } = space.open();
    const pub = await d.publish(reg());
    const key = `${space.ns}services/api/api-host-8080`;
    expect(JSON.parse((await direct.get(key).string()) ?? 'null')).toEqual({
      ID: 'api-host-8080',
      Name: 'api',
      Address: '10.1.2.3',
      Port: 8080,
      Tags: ['http'],
      Meta: { zone: 'a' },
      Node: 'host',
      Status: 'passing',
      TTL: '2s',
    });
    const lease = (await direct.get(key).exec()).kvs[0].lease;
    expect(String(lease)).not.toBe('0');
    expect((await d.instances('api'))[0]).toMatchObject({
      ID: 'api-host-8080',
      Address: '10.1.2.3',
      Port: 8080,
    });
    expect(await d.services()).toEqual([{ Name: 'api', Tags: ['http'] }]);
    await pub.withdraw();
    expect(await direct.get(key).string()).toBeNull();
  });

  it('keeps the lease alive well past its TTL while the publisher lives', async () => {
    const space = namespace();
    const { d } = space.open();
    await d.publish(reg({ ttlMs: 2000 }));
    await new Promise((r) => setTimeout(r, 3500));
    expect(await d.instances('api')).toHaveLength(1);
  });

  it('a watch on another tend sees instances come, turn warning and go', async () => {
    const space = namespace();
    const a = space.open();
    const b = space.open();
    const all: string[][] = [];
    const passing: string[][] = [];
    b.d.watch('api', (list) => all.push(list.map((i) => `${i.ID}:${i.Status}`)));
    b.d.watch('api', (list) => passing.push(list.map((i) => i.ID)), { passingOnly: true });
    await waitFor(() => all.length === 1);
    expect(all[0]).toEqual([]);
    const pub = await a.d.publish(reg());
    await waitFor(() => all.at(-1)?.length === 1, { what: 'the instance' });
    await pub.update('warning', 'HTTP 503');
    await waitFor(() => all.at(-1)?.[0] === 'api-host-8080:warning', { what: 'warning' });
    expect(passing.at(-1)).toEqual([]);
    await pub.withdraw();
    await waitFor(() => all.at(-1)?.length === 0, { what: 'gone' });
    expect(all).toEqual([[], ['api-host-8080:passing'], ['api-host-8080:warning'], []]);
  });

  it('when the publisher dies without withdrawing, the instance disappears after the lease TTL', async () => {
    const space = namespace();
    const a = space.open();
    const b = space.open();
    const lists: number[] = [];
    b.d.watch('api', (list) => lists.push(list.length));
    await a.d.publish(reg({ ttlMs: 2000 }));
    await waitFor(() => lists.at(-1) === 1);
    const died = Date.now();
    // closing the store stops keep-alives without revoking: what a SIGKILLed tend leaves
    await a.kv.close();
    await waitFor(() => lists.at(-1) === 0, { what: 'lease expiry', timeoutMs: 10_000 });
    expect(Date.now() - died).toBeGreaterThanOrEqual(1000);
  });
});
