/**
 * etcd faults that used to leave the watch quietly wrong (issue 14), against a real etcd of this file's own
 * (one test wipes its data folder):
 * - etcd back on the same address with a lower revision (a restored snapshot, a fresh cluster): the watch waited
 *   for a revision the new history would reach only much later, so nothing rendered and later puts were lost;
 * - a value over the client's 4 MiB response limit under a watched prefix: the shared watch stream failed with
 *   RESOURCE_EXHAUSTED, reconnected and replayed the same event ~10 times a second, for every watch, forever.
 */
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type KvBackend, type KvNotice, openKv } from '../../src/kv/index.js';
import { type EtcdHarness, startEtcd, startTcpProxy } from '../helpers/etcd.js';
import { collect, eventually, sleep, statusLog } from './collect.js';

let etcd: EtcdHarness;
let direct: Etcd3;
const open: KvBackend[] = [];
let nsCounter = 0;

const timing = { backoffInitialMs: 50, backoffMaxMs: 500, requestTimeoutMs: 3000 };
const MiB = 1024 * 1024;

function kv(url = etcd.url): { store: KvBackend; ns: string; notices: KvNotice[] } {
  const ns = `f${++nsCounter}/`;
  const store = openKv(`${url}/${ns}`, { env: {}, timing });
  open.push(store);
  const notices: KvNotice[] = [];
  store.onNotice?.((n) => notices.push(n));
  return { store, ns, notices };
}

/** etcd's own count of watch streams opened since it started (each reconnect of a client opens one) */
async function watchStreamsOpened(): Promise<number> {
  const text = await (await fetch(`http://${etcd.endpoint}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('grpc_server_started_total{grpc_method="Watch"'));
  return line ? Number(line.split(' ').pop()) : 0;
}

beforeAll(async () => {
  // the server takes a 5 MiB put; the client (tend) still accepts at most 4 MiB in one response
  etcd = await startEtcd({ args: [`--max-request-bytes=${8 * MiB}`] });
  direct = new Etcd3({ hosts: `http://${etcd.endpoint}` });
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.close()));
  if (!etcd.running()) await etcd.start();
});

afterAll(async () => {
  direct?.close();
  await etcd?.close();
});

describe('etcd back with another history', () => {
  it('notices a lower revision (a fresh cluster on the same address), re-lists, says so once, and keeps watching', async () => {
    // tend reaches etcd through a proxy, only so that the test can hold it back until the new history is written
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: etcd.clientPort });
    const { store, ns, notices } = kv(`etcd://${proxy.endpoint}`);
    for (let i = 0; i < 40; i++) await direct.put(`${ns}noise`).value(String(i));
    await direct.put(`${ns}cfg/a`).value('old');
    await direct.put(`${ns}cfg/gone`).value('old');
    await direct.put(`${ns}cfg/same`).value('same');
    await direct.put(`${ns}solo`).value('old');
    const s = statusLog();
    store.onStatus(s.on);
    const c = collect();
    const w = store.watch({ keys: ['solo'], prefixes: ['cfg/'] }, c.onChange);
    await w.synced();

    proxy.cut();
    await etcd.stop();
    await eventually(() => !store.status().connected, 10_000, 'disconnected status');
    await etcd.start({ wipe: true });
    // the new history: a few revisions, far below the 45 tend has seen
    await direct.put(`${ns}cfg/a`).value('new');
    await direct.put(`${ns}cfg/same`).value('same');
    await direct.put(`${ns}solo`).value('new');
    proxy.restore();

    await c.until('cfg/a', 'new', 20_000);
    await c.until('solo', 'new');
    await c.until('cfg/gone', undefined);
    expect(c.latest().has('cfg/same')).toBe(false);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ kind: 'reset', changed: 3 });
    expect(notices[0].message).toMatch(/revision \d, below the 45 tend had seen/);
    expect(notices[0].message).toContain(store.url);

    // later puts are not ignored
    await direct.put(`${ns}cfg/b`).value('later');
    await c.until('cfg/b', 'later');
    await direct.put(`${ns}solo`).value('later');
    await c.until('solo', 'later');
    expect(store.status().connected).toBe(true);
    expect(notices).toHaveLength(1);
    await w.close();
    await proxy.close();
  });

  it('notices another cluster id even when the new history is already past the old revision', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: etcd.clientPort });
    const { store, ns, notices } = kv(`etcd://${proxy.endpoint}`);
    await direct.put(`${ns}k`).value('old');
    const c = collect();
    const w = store.watch({ keys: ['k'], prefixes: [] }, c.onChange);
    await w.synced();
    const seen = Number((await direct.get(`${ns}k`).exec()).header.revision);
    proxy.cut();
    await etcd.stop();
    // another token: another cluster (and member) id
    await etcd.start({ wipe: true, args: ['--initial-cluster-token=another-cluster'] });
    await direct.put(`${ns}k`).value('new');
    for (let i = 0; i <= seen + 10; i++) await direct.put(`${ns}noise`).value(String(i));
    proxy.restore();
    await c.until('k', 'new', 20_000);
    await eventually(() => notices.length === 1, 10_000, 'the reset notice');
    expect(notices[0].message).toMatch(/cluster id [0-9a-f]+ instead of [0-9a-f]+/);
    await direct.put(`${ns}k`).value('newer');
    await c.until('k', 'newer');
    expect(notices).toHaveLength(1);
    await w.close();
    await proxy.close();
  });

  it('notices it without a proxy too: etcd stopped, its data wiped, started on the same port', async () => {
    const { store, ns, notices } = kv();
    for (let i = 0; i < 40; i++) await direct.put(`${ns}noise`).value(String(i));
    await direct.put(`${ns}k`).value('old');
    const c = collect();
    const w = store.watch({ keys: ['k'], prefixes: [] }, c.onChange);
    await w.synced();
    await etcd.stop();
    await etcd.start({ wipe: true });
    await direct.put(`${ns}k`).value('new');
    await c.until('k', 'new', 20_000);
    await eventually(() => notices.length === 1, 10_000, 'the reset notice');
    await direct.put(`${ns}k`).value('newer');
    await c.until('k', 'newer');
    expect(notices.map((n) => n.kind)).toEqual(['reset']);
    await w.close();
  });
});

describe('etcd values over the client response limit', () => {
  it('a 5 MiB value put under a watched prefix: named with the limit, no reconnect storm, recovers when replaced', async () => {
    const { store, ns, notices } = kv();
    await direct.put(`${ns}big/small`).value('s1');
    const s = statusLog();
    store.onStatus(s.on);
    const c = collect();
    const w = store.watch({ keys: [], prefixes: ['big/'] }, c.onChange);
    // a second watch of its own keys shares the client's watch stream
    const other = collect();
    const w2 = store.watch({ keys: ['elsewhere'], prefixes: [] }, other.onChange);
    await w.synced();
    await w2.synced();

    await direct.put(`${ns}big/blob`).value('x'.repeat(5 * MiB));
    await eventually(() => notices.some((n) => n.kind === 'oversize'), 15_000, 'a notice of the big value');
    const notice = notices.find((n) => n.kind === 'oversize');
    expect(notice?.message).toContain('big/blob');
    expect(notice?.message).toMatch(/4 MiB/);

    // while it sits there, etcd is not hammered with new watch streams (it was ~10 a second)
    const before = await watchStreamsOpened();
    await sleep(3000);
    expect((await watchStreamsOpened()) - before).toBeLessThanOrEqual(3);
    expect(notices.filter((n) => n.kind === 'oversize')).toHaveLength(1);
    // and the store is not reported unreachable for it
    expect(s.log.filter((x) => !x.connected)).toEqual([]);

    // the other keys of the prefix, and the other watch, still arrive
    await direct.put(`${ns}big/small`).value('s2');
    await c.until('big/small', 's2', 15_000);
    await direct.put(`${ns}elsewhere`).value('e');
    await other.until('elsewhere', 'e', 15_000);

    // replacing the value recovers, without compaction
    await direct.put(`${ns}big/blob`).value('fits');
    await c.until('big/blob', 'fits', 15_000);
    await direct.put(`${ns}big/small`).value('s3');
    await c.until('big/small', 's3');
    await w.close();
    await w2.close();
  });

  it('a prefix that already holds a 5 MiB value syncs without it, names it, and picks up its deletion', async () => {
    const { store, ns, notices } = kv();
    await direct.put(`${ns}pre/a`).value('a');
    await direct.put(`${ns}pre/huge`).value('y'.repeat(5 * MiB));
    await direct.put(`${ns}pre/z`).value('z');
    const c = collect();
    const w = store.watch({ keys: [], prefixes: ['pre/'] }, c.onChange);
    await w.synced();
    expect(notices.filter((n) => n.kind === 'oversize').map((n) => (n as { key: string }).key)).toEqual([
      'pre/huge',
    ]);
    await direct.put(`${ns}pre/z`).value('z2');
    await c.until('pre/z', 'z2', 15_000);
    await direct.delete().key(`${ns}pre/huge`);
    await direct.put(`${ns}pre/a`).value('a2');
    await c.until('pre/a', 'a2', 15_000);
    expect(c.latest().get('pre/huge')).toBeUndefined();
    await direct.put(`${ns}pre/huge`).value('y'.repeat(5 * MiB));
    // a direct read of it says what is wrong, with the key and the limit
    await expect(store.get('pre/huge')).rejects.toThrow(/get pre\/huge: .*larger than the 4 MiB/);
    await w.close();
  });
});
