import { describe, expect, it } from 'vitest';
import { KvError, openKv, parseKvUrl, redactUrl, resolveKvUrl } from '../../src/kv/index.js';

describe('resolveKvUrl', () => {
  it('takes --kv, else TEND_KV, else the manifest, else file:./kv', () => {
    const env = { TEND_KV: 'etcd://env:2379' };
    expect(resolveKvUrl({ flag: 'consul://flag:8500', env, manifest: 'file:./m' })).toBe(
      'consul://flag:8500',
    );
    expect(resolveKvUrl({ env, manifest: 'file:./m' })).toBe('etcd://env:2379');
    expect(resolveKvUrl({ env: {}, manifest: 'file:./m' })).toBe('file:./m');
    expect(resolveKvUrl({ env: {} })).toBe('file:./kv');
  });

  it('treats empty strings as unset', () => {
    expect(resolveKvUrl({ flag: '', env: { TEND_KV: '  ' }, manifest: '' })).toBe('file:./kv');
  });
});

describe('parseKvUrl: file', () => {
  it('recognises folders and flattened YAML/JSON files', () => {
    expect(parseKvUrl('file:./kv', {})).toMatchObject({ kind: 'file', path: './kv', format: 'dir' });
    expect(parseKvUrl('file:/etc/app/kv.yaml', {})).toMatchObject({
      path: '/etc/app/kv.yaml',
      format: 'yaml',
    });
    expect(parseKvUrl('file:conf.YML', {})).toMatchObject({ format: 'yaml' });
    expect(parseKvUrl('file:/x/kv.json', {})).toMatchObject({ format: 'json' });
    expect(parseKvUrl('file:///abs/kv', {})).toMatchObject({ path: '/abs/kv', format: 'dir' });
  });

  it('refuses an empty path and unknown schemes', () => {
    expect(() => parseKvUrl('file:', {})).toThrow(KvError);
    expect(() => parseKvUrl('redis://h:6379', {})).toThrow(/unknown KV store URL/);
  });
});

describe('parseKvUrl: etcd', () => {
  it('reads several endpoints, a namespace and credentials, and redacts the password', () => {
    const c = parseKvUrl('etcd://root:s3cret@h1:2379,h2/myapp', {});
    expect(c).toMatchObject({
      kind: 'etcd',
      endpoints: ['h1:2379', 'h2:2379'],
      tls: false,
      username: 'root',
      password: 's3cret',
      prefix: 'myapp/',
    });
    expect(c.url).toBe('etcd://root:***@h1:2379,h2:2379/myapp/');
    expect(c.url).not.toContain('s3cret');
  });

  it('uses ETCDCTL_ENDPOINTS only when the URL names no host, and the default otherwise', () => {
    const env = { ETCDCTL_ENDPOINTS: 'https://e1:2379,https://e2:2380' };
    expect(parseKvUrl('etcd://', env)).toMatchObject({ endpoints: ['e1:2379', 'e2:2380'], tls: true });
    expect(parseKvUrl('etcd:///ns/', env)).toMatchObject({
      endpoints: ['e1:2379', 'e2:2380'],
      prefix: 'ns/',
    });
    expect(parseKvUrl('etcd://u:2379', env)).toMatchObject({ endpoints: ['u:2379'], tls: false });
    expect(parseKvUrl('etcd://', {})).toMatchObject({ endpoints: ['127.0.0.1:2379'], prefix: '' });
  });

  it('turns TLS on with etcds:// or the ETCDCTL_* certificate variables', () => {
    expect(parseKvUrl('etcds://h:2379', {})).toMatchObject({ tls: true });
    const c = parseKvUrl('etcd://h:2379', {
      ETCDCTL_CACERT: '/ca.pem',
      ETCDCTL_CERT: '/c.pem',
      ETCDCTL_KEY: '/k.pem',
    });
    expect(c).toMatchObject({ tls: true, caFile: '/ca.pem', certFile: '/c.pem', keyFile: '/k.pem' });
    expect(c.url.startsWith('etcds://')).toBe(true);
  });

  it('takes the user from ETCDCTL_USER (user:password, or with ETCDCTL_PASSWORD)', () => {
    expect(parseKvUrl('etcd://h', { ETCDCTL_USER: 'bob:pw' })).toMatchObject({
      username: 'bob',
      password: 'pw',
    });
    expect(parseKvUrl('etcd://h', { ETCDCTL_USER: 'bob', ETCDCTL_PASSWORD: 'pw2' })).toMatchObject({
      username: 'bob',
      password: 'pw2',
    });
    expect(parseKvUrl('etcd://a:b@h', { ETCDCTL_USER: 'bob:pw' })).toMatchObject({
      username: 'a',
      password: 'b',
    });
    expect(() => parseKvUrl('etcd://h', { ETCDCTL_USER: 'bob' })).toThrow(/no password/);
  });

  it('accepts IPv6 and refuses bad ports', () => {
    expect(parseKvUrl('etcd://[::1]:2379', {})).toMatchObject({ endpoints: ['[::1]:2379'] });
    expect(() => parseKvUrl('etcd://h:99999', {})).toThrow(/bad port/);
  });
});

describe('parseKvUrl: consul', () => {
  it('reads host, prefix, dc and wait', () => {
    const c = parseKvUrl('consul://c1:8500/app?dc=west&wait=30s', {});
    expect(c).toMatchObject({
      kind: 'consul',
      address: 'c1:8500',
      tls: false,
      prefix: 'app/',
      datacenter: 'west',
      waitMs: 30_000,
    });
    expect(c.url).toBe('consul://c1:8500/app/?dc=west&wait=30s');
    expect(parseKvUrl('consul://c1', {})).toMatchObject({ address: 'c1:8500', waitMs: 300_000 });
  });

  it('honours CONSUL_HTTP_ADDR (with its scheme), CONSUL_HTTP_SSL, the token and CA variables', () => {
    const env = {
      CONSUL_HTTP_ADDR: 'https://agent:8501',
      CONSUL_HTTP_TOKEN: 'tok',
      CONSUL_CACERT: '/ca.pem',
    };
    const c = parseKvUrl('consul://', env);
    expect(c).toMatchObject({ address: 'agent:8501', tls: true, token: 'tok', caFile: '/ca.pem' });
    expect(c.url).not.toContain('tok');
    expect(
      parseKvUrl('consul://', { CONSUL_HTTP_ADDR: 'agent:1234', CONSUL_HTTP_SSL: 'true' }),
    ).toMatchObject({
      address: 'agent:1234',
      tls: true,
    });
    expect(parseKvUrl('consul://mine:8500', env)).toMatchObject({ address: 'mine:8500' });
    expect(parseKvUrl('consul://', {})).toMatchObject({ address: '127.0.0.1:8500', tls: false });
    expect(parseKvUrl('consuls://h', {})).toMatchObject({ address: 'h:8501', tls: true });
  });

  it('refuses tokens in the URL, several agents, and unknown options', () => {
    expect(() => parseKvUrl('consul://tok@h:8500', {})).toThrow(/CONSUL_HTTP_TOKEN/);
    expect(() => parseKvUrl('consul://a,b', {})).toThrow(/one agent/);
    expect(() => parseKvUrl('consul://h?stale=1', {})).toThrow(/unknown option/);
    expect(() => parseKvUrl('consul://h?wait=11m', {})).toThrow(/10m/);
  });
});

describe('redactUrl and openKv', () => {
  it('hides passwords', () => {
    expect(redactUrl('etcd://u:p@h:1/x')).toBe('etcd://u:***@h:1/x');
    expect(redactUrl('etcd://h:1')).toBe('etcd://h:1');
  });

  it('opens without I/O and exposes the redacted URL', async () => {
    const kv = openKv('etcd://u:pw@127.0.0.1:1', { env: {} });
    expect(kv.kind).toBe('etcd');
    expect(kv.url).toBe('etcd://u:***@127.0.0.1:1');
    expect(kv.status().connected).toBe(false);
    await kv.close();
  });
});
