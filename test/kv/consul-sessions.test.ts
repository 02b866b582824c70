/**
 * The Consul backend's session calls (`kv.sessions`: what the rollout semaphore is built on), against the stateful
 * Consul double (test/helpers/consul-double.ts): a key acquired by one session cannot be acquired by another,
 * release frees it, check-and-set writes only on the index it was given, and reads show who holds what.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type KvBackend, KvError, openKv } from '../../src/kv/index.js';
import { type ConsulDouble, startConsulDouble } from '../helpers/consul-double.js';

const TOKEN = 'sessions-token';
let consul: ConsulDouble;
const opened: KvBackend[] = [];

beforeEach(async () => {
  consul = await startConsulDouble({ token: TOKEN });
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((kv) => kv.close()));
  await consul.close();
});

function client(token = TOKEN): KvBackend {
  const kv = openKv(`consul://${consul.address}/ns/`, {
    env: { CONSUL_HTTP_TOKEN: token },
    timing: { backoffInitialMs: 20, backoffMaxMs: 100, requestTimeoutMs: 2000 },
  });
  opened.push(kv);
  return kv;
}

describe('consul backend: session calls', () => {
  it('acquire, release, check-and-set and reads that show the holder, as Consul answers them', async () => {
    const a = client();
    const b = client();
    const api = a.sessions;
    const apiB = b.sessions;
    if (!api || !apiB) throw new Error('no sessions on a Consul backend');
    const la = await a.grantLease(10_000);
    const lb = await b.grantLease(10_000);

    expect(await api.acquire('lock/x', 'a', la)).toBe(true);
    expect(await apiB.acquire('lock/x', 'b', lb)).toBe(false);
    // the holder may rewrite it
    expect(await api.acquire('lock/x', 'a2', la)).toBe(true);
    expect(consul.entry('ns/lock/x')?.LockIndex).toBe(1);
    const [held] = await api.entries('lock/');
    expect(held).toMatchObject({ key: 'lock/x', value: 'a2', session: la.id });
    expect(held?.createIndex).toBeLessThan(held?.modifyIndex ?? 0);

    expect(await apiB.release('lock/x', lb)).toBe(false);
    expect(await api.release('lock/x', la)).toBe(true);
    const [free] = await api.entries('lock/');
    expect(free?.session).toBeUndefined();
    expect(await apiB.acquire('lock/x', 'b', lb)).toBe(true);
    expect(consul.entry('ns/lock/x')?.LockIndex).toBe(2);

    // check-and-set: 0 creates only; an index writes only if it is still the key's ModifyIndex
    expect(await api.cas('lock/.lock', '{"n":1}', 0)).toBe(true);
    expect(await api.cas('lock/.lock', '{"n":2}', 0)).toBe(false);
    const lock = (await api.entries('lock/')).find((e) => e.key === 'lock/.lock');
    expect(await api.cas('lock/.lock', '{"n":2}', (lock?.modifyIndex ?? 0) + 1)).toBe(false);
    expect(await api.cas('lock/.lock', '{"n":2}', lock?.modifyIndex ?? 0)).toBe(true);
    expect(await a.get('lock/.lock')).toBe('{"n":2}');

    // a session's end deletes what it holds (Behavior delete)
    await lb.revoke();
    expect((await api.entries('lock/')).map((e) => e.key)).toEqual(['lock/.lock']);
    expect(consul.requests.every((r) => r.token === TOKEN)).toBe(true);
  });

  it('refuses a lease of another backend, and says when the token is refused', async () => {
    const a = client();
    const b = client();
    const lb = await b.grantLease(10_000);
    await expect(a.sessions?.acquire('k', 'v', lb)).rejects.toThrow(/is not ours/);
    const denied = client('wrong-token');
    const err = await denied.sessions?.entries('k').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KvError);
    expect((err as KvError).code).toBe('denied');
  });
});
