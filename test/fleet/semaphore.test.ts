/**
 * The rollout semaphore (a library, not wired into tend up yet) against a real etcd: five contenders, each with
 * its own client and lease, never more than `max` holders at once, served in the order they queued; a holder that
 * dies without releasing (its client closed, the lease left to expire, as after a SIGKILL) frees its slot when
 * the lease expires, and not before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireSlot, type Slot } from '../../src/fleet/index.js';
import { type KvBackend, openKv } from '../../src/kv/index.js';
import { type EtcdHarness, startEtcd } from '../helpers/etcd.js';
import { sleep } from '../helpers/wait.js';

let etcd: EtcdHarness;
const opened: KvBackend[] = [];
beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(async () => {
  await Promise.all(opened.map((kv) => kv.close()));
  await etcd?.close();
});

const client = (ns: string) => {
  const kv = openKv(`${etcd.url}/${ns}`, {
    env: {},
    timing: { backoffInitialMs: 100, backoffMaxMs: 1000 },
  });
  opened.push(kv);
  return kv;
};

describe('rollout semaphore on etcd', () => {
  it('five contenders, max 2: never more than two hold at once, all get through, first come first served', async () => {
    let holding = 0;
    let most = 0;
    const entered: number[] = [];
    const released = new Set<number>();
    /** per entry: how many contenders queued before it had not released yet (FIFO: at most max-1) */
    const ahead: number[] = [];
    const run = async (i: number) => {
      const kv = client('sem1/');
      const lease = await kv.grantLease(5000);
      const slot = await acquireSlot(kv, { prefix: 'rollout/shop/web/', max: 2, lease, holder: `h${i}` });
      holding++;
      most = Math.max(most, holding);
      entered.push(slot.revision);
      ahead.push(entered.filter((r) => r < slot.revision && !released.has(r)).length);
      await sleep(300);
      holding--;
      released.add(slot.revision);
      await slot.release();
      return slot;
    };
    const slots: Slot[] = await Promise.all([0, 1, 2, 3, 4].map(run));
    expect(most).toBe(2);
    expect(slots).toHaveLength(5);
    // first come first served: nobody entered while more than max-1 of those queued before it still held
    // (their revisions are their places in the queue; one that was granted first may notice it a little later)
    expect(Math.max(...ahead)).toBeLessThanOrEqual(1);
    expect(new Set(entered).size).toBe(5);
    expect(await client('sem1/').list('rollout/')).toEqual([]);
  }, 30_000);

  it('a holder that dies without releasing frees the slot when its lease expires, not before', async () => {
    const dead = client('sem2/');
    const deadLease = await dead.grantLease(2000);
    await acquireSlot(dead, { prefix: 'rollout/shop/web/', max: 1, lease: deadLease, holder: 'dead' });
    await dead.close(); // no release, no revoke: keep-alives stop, etcd expires the lease after its TTL
    const diedAt = Date.now();
    const next = client('sem2/');
    // closing alone frees nothing: the dead holder's key is still there
    expect((await next.list('rollout/shop/web/')).map((p) => p.key)).toEqual([
      expect.stringMatching(/^rollout\/shop\/web\/dead-/),
    ]);
    const slot = await acquireSlot(next, {
      prefix: 'rollout/shop/web/',
      max: 1,
      lease: await next.grantLease(5000),
      holder: 'next',
    });
    expect(Date.now() - diedAt).toBeGreaterThanOrEqual(1000);
    await slot.release();
  }, 30_000);

  // file and Consul stores: test/fleet/semaphore-file.test.ts, semaphore-consul.test.ts
  it('gives up on abort without leaving its key', async () => {
    const kv = client('sem3/');
    const lease = await kv.grantLease(5000);
    const held = await acquireSlot(kv, { prefix: 'q/', max: 1, lease, holder: 'a' });
    const ac = new AbortController();
    const waiting = acquireSlot(kv, { prefix: 'q/', max: 1, lease, holder: 'b', signal: ac.signal });
    await sleep(200);
    ac.abort();
    await expect(waiting).rejects.toThrow(/gave up/);
    expect((await kv.list('q/')).map((p) => p.key)).toEqual([held.key]);
    await held.release();
  }, 30_000);
});
