import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KvBackend, openKv } from '../../src/kv/index.js';
import { type EtcdHarness, startEtcd } from '../helpers/etcd.js';

// A separate etcd: once authentication is on, every client needs credentials.
let etcd: EtcdHarness;
const open: KvBackend[] = [];

beforeAll(async () => {
  etcd = await startEtcd();
  const admin = new Etcd3({ hosts: `http://${etcd.endpoint}` });
  try {
    await admin.user('root').create('r00t-pw');
    await admin.user('root').addRole('root');
    await admin.auth.authEnable({});
  } finally {
    admin.close();
  }
});

afterAll(async () => {
  await Promise.all(open.splice(0).map((b) => b.close()));
  await etcd?.close();
});

describe('etcd backend with authentication', () => {
  it('logs in with the user and password of the URL (or ETCDCTL_USER)', async () => {
    const fromUrl = openKv(`etcd://root:r00t-pw@${etcd.endpoint}/auth/`, { env: {} });
    const fromEnv = openKv(`etcd://${etcd.endpoint}/auth/`, { env: { ETCDCTL_USER: 'root:r00t-pw' } });
    open.push(fromUrl, fromEnv);
    await fromUrl.put('k', 'v');
    expect(await fromEnv.get('k')).toBe('v');
    expect(fromUrl.url).toBe(`etcd://root:***@${etcd.endpoint}/auth/`);
  });

  it('rejects a wrong password as denied, naming the redacted URL', async () => {
    const store = openKv(`etcd://root:wrong@${etcd.endpoint}`, { env: {} });
    open.push(store);
    const err = await store.get('k').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'denied' });
    expect((err as Error).message).toContain(`etcd://root:***@${etcd.endpoint}`);
    expect((err as Error).message).not.toContain('wrong');
    expect(store.status().connected).toBe(false);
  });
});
