/**
 * The etcd backend on `etcd://A,B,C` against a real three-member cluster: with one member stopped, every
 * request still succeeds (the client moves to a live member instead of failing the calls that happen to pick the
 * dead one), the store is never reported unreachable, and a lease granted before keeps its keys.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KvBackend, type KvStatus, openKv } from '../../src/kv/index.js';
import { type EtcdCluster, startEtcdCluster } from '../helpers/etcd.js';

let cluster: EtcdCluster;
beforeAll(async () => {
  cluster = await startEtcdCluster({ size: 3 });
}, 60_000);
afterAll(async () => {
  await cluster?.close();
});

describe('etcd backend on a three-member cluster', () => {
  it('with one member down, 60 reads and writes all succeed and the store stays connected', async () => {
    const kv: KvBackend = openKv(`${cluster.url}/kvc/`, {
      env: {},
      timing: { backoffInitialMs: 100, backoffMaxMs: 1000, requestTimeoutMs: 3000 },
    });
    const outages: KvStatus[] = [];
    try {
      await kv.put('a', '0');
      const lease = await kv.grantLease(2000);
      await kv.put('leased', 'yes', { lease });
      kv.onStatus((s) => {
        if (!s.connected) outages.push(s);
      });
      const [down] = cluster.members;
      if (!down) throw new Error('no member');
      await down.stop();
      const failures: string[] = [];
      for (let i = 0; i < 30; i++) {
        try {
          await kv.put('a', String(i));
          expect(await kv.get('a')).toBe(String(i));
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
      expect(failures).toEqual([]);
      expect(outages).toEqual([]);
      expect(kv.status().connected).toBe(true);
      // the lease is kept alive through the live members: its key outlives several TTLs
      await new Promise((r) => setTimeout(r, 5000));
      expect(await kv.get('leased')).toBe('yes');
      await down.start();
    } finally {
      await kv.close();
    }
  }, 60_000);
});
