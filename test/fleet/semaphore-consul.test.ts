/**
 * The rollout semaphore on Consul, against a stateful double of Consul's HTTP API (test/helpers/consul-double.ts:
 * Consul cannot be installed here). Each contender has its own client and session, as each tend would: never more
 * than `max` holders, served in the order they queued; a holder whose session ends (invalidated, or its TTL run out
 * because its tend stopped renewing) frees its slot, and one that renews keeps it past the TTL; an aborted waiter
 * leaves nothing; what lies in the store is what Consul's semaphore guide describes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireSlot, SemaphoreError, type Slot } from '../../src/fleet/index.js';
import { type KvBackend, type Lease, openKv } from '../../src/kv/index.js';
import { type ConsulDouble, startConsulDouble } from '../helpers/consul-double.js';
import { sleep, waitFor } from '../helpers/wait.js';

const TOKEN = 's3cr3t-acl-token';
const PREFIX = 'rollout/shop/web/';
let consul: ConsulDouble;
const opened: KvBackend[] = [];

beforeEach(async () => {
  consul = await startConsulDouble({ token: TOKEN });
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((kv) => kv.close()));
  await consul.close();
});

/** one tend's client: its own connection, its own session */
async function tend(): Promise<{ kv: KvBackend; lease: Lease }> {
  const kv = openKv(`consul://${consul.address}/app/?wait=2s`, {
    env: { CONSUL_HTTP_TOKEN: TOKEN },
    timing: { minQueryIntervalMs: 20, backoffInitialMs: 50, backoffMaxMs: 500, requestTimeoutMs: 2000 },
  });
  opened.push(kv);
  return { kv, lease: await kv.grantLease(10_000) };
}

describe('rollout semaphore on Consul (against a double of its API)', () => {
  it('five contenders, max 2: never more than two hold at once, all get through, first come first served', async () => {
    let holding = 0;
    let most = 0;
    const entered: number[] = [];
    const released = new Set<number>();
    const ahead: number[] = [];
    let sawLock = false;
    const run = async (i: number) => {
      const { kv, lease } = await tend();
      // queue one after the other, so that the order of arrival is known
      await sleep(i * 50);
      const slot = await acquireSlot(kv, { prefix: PREFIX, max: 2, lease, holder: `h${i}` });
      holding++;
      most = Math.max(most, holding);
      entered.push(slot.revision);
      ahead.push(entered.filter((r) => r < slot.revision && !released.has(r)).length);
      // what the store holds while a slot is held: the guide's shapes
      const lock = consul.entry(`app/${PREFIX}.lock`);
      const value = JSON.parse(Buffer.from(lock?.Value ?? '', 'base64').toString()) as {
        Limit: number;
        Holders: string[];
      };
      expect(value.Limit).toBe(2);
      expect(value.Holders).toContain(lease.id);
      expect(value.Holders.length).toBeLessThanOrEqual(2);
      expect(consul.entry(`app/${PREFIX}${lease.id}`)?.Session).toBe(lease.id);
      sawLock = true;
      await sleep(200);
      holding--;
      released.add(slot.revision);
      await slot.release();
      return slot;
    };
    const slots: Slot[] = await Promise.all([0, 1, 2, 3, 4].map(run));
    expect(sawLock).toBe(true);
    expect(most).toBe(2);
    expect(slots).toHaveLength(5);
    expect(Math.max(...ahead)).toBeLessThanOrEqual(1);
    // every contender key is gone and the lock names nobody
    expect(consul.keys(`app/${PREFIX}`)).toEqual([`app/${PREFIX}.lock`]);
    const lock = consul.entry(`app/${PREFIX}.lock`);
    expect(JSON.parse(Buffer.from(lock?.Value ?? '', 'base64').toString())).toEqual({
      Limit: 2,
      Holders: [],
    });
    // the ACL token went with every request
    expect(consul.requests.length).toBeGreaterThan(0);
    expect(consul.requests.every((r) => r.token === TOKEN)).toBe(true);
  });

  it('a holder whose session is invalidated loses its slot, and the next in line gets it (not before)', async () => {
    const a = await tend();
    const b = await tend();
    const held = await acquireSlot(a.kv, { prefix: PREFIX, max: 1, lease: a.lease, holder: 'a' });
    let lostA = false;
    a.lease.onLost(() => {
      lostA = true;
    });
    let got: Slot | undefined;
    const waiting = acquireSlot(b.kv, { prefix: PREFIX, max: 1, lease: b.lease, holder: 'b' }).then((s) => {
      got = s;
      return s;
    });
    await waitFor(() => consul.entry(`app/${PREFIX}${b.lease.id}`) !== undefined, {
      what: "b's contender key",
    });
    await sleep(300);
    expect(got).toBeUndefined();
    // what Consul does when a's TTL runs out: the session ends and, Behavior delete, its contender key goes
    consul.invalidate(a.lease.id);
    const slot = await waiting;
    expect(slot.key).toBe(`${PREFIX}${b.lease.id}`);
    // b pruned the dead holder from the lock
    const lock = consul.entry(`app/${PREFIX}.lock`);
    expect(JSON.parse(Buffer.from(lock?.Value ?? '', 'base64').toString())).toEqual({
      Limit: 1,
      Holders: [b.lease.id],
    });
    // a hears of it at its next renewal (half the TTL)
    await waitFor(() => lostA, { timeoutMs: 15_000, what: "a's lease lost" });
    await held.release(); // harmless now
    await slot.release();
  }, 30_000);

  it('renewals keep a slot past the TTL; a tend that stops renewing (killed) frees it when the TTL runs out', async () => {
    const a = await tend();
    const b = await tend();
    expect(a.lease.ttlMs).toBe(10_000);
    await acquireSlot(a.kv, { prefix: PREFIX, max: 1, lease: a.lease, holder: 'a' });
    let got: Slot | undefined;
    const waiting = acquireSlot(b.kv, { prefix: PREFIX, max: 1, lease: b.lease, holder: 'b' }).then((s) => {
      got = s;
      return s;
    });
    // past one TTL: a renewed its session, so it still holds
    await sleep(12_000);
    expect(got).toBeUndefined();
    expect(consul.entry(`app/${PREFIX}${a.lease.id}`)?.Session).toBe(a.lease.id);
    // a's tend dies: no release, no destroy, no more renewals
    await a.kv.close();
    const slot = await waiting;
    expect(consul.entry(`app/${PREFIX}${a.lease.id}`)).toBeUndefined();
    await slot.release();
  }, 60_000);

  it('a waiter whose reads fail (Consul without a leader) keeps its place and gets the slot once they succeed', async () => {
    const a = await tend();
    const b = await tend();
    const held = await acquireSlot(a.kv, { prefix: PREFIX, max: 1, lease: a.lease, holder: 'a' });
    const waiting = acquireSlot(b.kv, { prefix: PREFIX, max: 1, lease: b.lease, holder: 'b' });
    await waitFor(() => consul.entry(`app/${PREFIX}${b.lease.id}`) !== undefined, {
      what: "b's contender key",
    });
    // the next three full reads of the prefix (not the blocking ones) fail: a's release reads first, then b
    consul.failNext(
      3,
      (r) => r.method === 'GET' && r.path === `/v1/kv/app/${PREFIX}` && !r.query.has('index'),
    );
    // a's release cannot update the lock, but still deletes its key: b's watch sees that, and b's reads fail
    await expect(held.release()).rejects.toThrow(/No cluster leader/);
    expect(consul.entry(`app/${PREFIX}${a.lease.id}`)).toBeUndefined();
    const slot = await waiting;
    expect(slot.key).toBe(`${PREFIX}${b.lease.id}`);
    await slot.release();
  });

  it('an aborted waiter leaves no contender key; the holder keeps its slot', async () => {
    const a = await tend();
    const b = await tend();
    const slot = await acquireSlot(a.kv, { prefix: PREFIX, max: 1, lease: a.lease, holder: 'a' });
    const ac = new AbortController();
    const waiting = acquireSlot(b.kv, {
      prefix: PREFIX,
      max: 1,
      lease: b.lease,
      holder: 'b',
      signal: ac.signal,
    });
    await waitFor(() => consul.entry(`app/${PREFIX}${b.lease.id}`) !== undefined, {
      what: "b's contender key",
    });
    ac.abort();
    await expect(waiting).rejects.toThrow(SemaphoreError);
    expect(consul.entry(`app/${PREFIX}${b.lease.id}`)).toBeUndefined();
    expect(consul.entry(`app/${PREFIX}${a.lease.id}`)?.Session).toBe(a.lease.id);
    await slot.release();
  });

  it('limits that disagree: while another holds under Limit 1, a contender asking for 2 waits', async () => {
    const a = await tend();
    const b = await tend();
    const first = await acquireSlot(a.kv, { prefix: PREFIX, max: 1, lease: a.lease, holder: 'a' });
    let got: Slot | undefined;
    const waiting = acquireSlot(b.kv, { prefix: PREFIX, max: 2, lease: b.lease, holder: 'b' }).then((s) => {
      got = s;
      return s;
    });
    await waitFor(() => consul.entry(`app/${PREFIX}${b.lease.id}`) !== undefined, {
      what: "b's contender key",
    });
    await sleep(300);
    expect(got).toBeUndefined();
    await first.release();
    const slot = await waiting;
    const lock = consul.entry(`app/${PREFIX}.lock`);
    expect(JSON.parse(Buffer.from(lock?.Value ?? '', 'base64').toString())).toEqual({
      Limit: 2,
      Holders: [b.lease.id],
    });
    await slot.release();
  });

  it('a malformed .lock key is an error that says how to clear it, and leaves no contender key', async () => {
    const a = await tend();
    await a.kv.put(`${PREFIX}.lock`, 'not json');
    await expect(acquireSlot(a.kv, { prefix: PREFIX, max: 1, lease: a.lease, holder: 'a' })).rejects.toThrow(
      /does not hold \{"Limit": n, "Holders": \[\.\.\.\]\}; delete it/,
    );
    expect(consul.keys(`app/${PREFIX}`)).toEqual([`app/${PREFIX}.lock`]);
  });
});
