import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileRegistry } from '../../src/discovery/file-registry.js';
import {
  createDiscovery,
  fileRegistryDir,
  type Registration,
  type Registry,
  type ServiceInstance,
} from '../../src/discovery/index.js';
import { waitFor } from '../helpers/wait.js';

const dirs: string[] = [];
const registries: Registry[] = [];
afterEach(async () => {
  await Promise.all(registries.splice(0).map((r) => r.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp() {
  const d = mkdtempSync(join(tmpdir(), 'tend-registry-'));
  dirs.push(d);
  return d;
}

function registry(dir: string) {
  const r = fileRegistry(dir, { debounceMs: 10 });
  registries.push(r);
  return r;
}

const reg = (o: Partial<Registration> = {}): Registration => ({
  id: 'api-host-8080',
  name: 'api',
  address: '127.0.0.1',
  port: 8080,
  tags: ['http'],
  meta: { version: '2' },
  ttlMs: 10_000,
  node: 'host',
  status: 'passing',
  ...o,
});

describe('file registry', () => {
  it('lives in .services of the KV folder (a dot-folder, so not KV keys), or next to a KV file', () => {
    expect(fileRegistryDir('file:./kv', '/srv/app')).toBe('/srv/app/kv/.services');
    expect(fileRegistryDir('file:/etc/tend/kv.yaml', '/srv/app')).toBe('/etc/tend/.services');
  });

  it('publishes one JSON document per instance, lists it, and removes it on withdraw', async () => {
    const dir = tmp();
    const r = registry(dir);
    const pub = await r.publish(reg());
    const file = join(dir, 'api', 'api-host-8080.json');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      ID: 'api-host-8080',
      Name: 'api',
      Address: '127.0.0.1',
      Port: 8080,
      Tags: ['http'],
      Meta: { version: '2' },
      Node: 'host',
      Status: 'passing',
      TTL: '10s',
    });
    const [one] = await r.instances('api');
    expect(one).toMatchObject({
      ID: 'api-host-8080',
      Name: 'api',
      Address: '127.0.0.1',
      Port: 8080,
      Status: 'passing',
    });
    expect(await r.catalog()).toEqual([{ Name: 'api', Tags: ['http'] }]);
    await pub.update('warning', 'HTTP 503');
    expect((await r.instances('api'))[0].Status).toBe('warning');
    await pub.withdraw();
    expect(existsSync(file)).toBe(false);
    expect(await r.instances('api')).toEqual([]);
    // no temp files left behind
    expect(readdirSync(join(dir, 'api'))).toEqual([]);
  });

  it('watches: instances coming, changing and going, each change once', async () => {
    const dir = tmp();
    const writer = registry(dir);
    const d = createDiscovery(registry(dir));
    const seen: ServiceInstance[][] = [];
    const passing: string[][] = [];
    const w = d.watch('api', (list) => seen.push(list));
    const wp = d.watch('api', (list) => passing.push(list.map((i) => i.ID)), { passingOnly: true });
    await waitFor(() => seen.length === 1);
    expect(seen[0]).toEqual([]);
    const a = await writer.publish(reg());
    const b = await writer.publish(reg({ id: 'api-other-9090', node: 'other', port: 9090 }));
    await waitFor(() => seen.at(-1)?.length === 2, { what: 'two instances' });
    expect(seen.at(-1)?.map((i) => i.ID)).toEqual(['api-host-8080', 'api-other-9090']);
    await a.update('warning', 'slow');
    await waitFor(() => passing.at(-1)?.length === 1, { what: 'one passing' });
    expect(passing.at(-1)).toEqual(['api-other-9090']);
    await b.withdraw();
    await a.withdraw();
    await waitFor(() => seen.at(-1)?.length === 0, { what: 'none left' });
    w.close();
    wp.close();
    // the lists never repeat: every report is a change
    for (let i = 1; i < seen.length; i++) expect(seen[i]).not.toEqual(seen[i - 1]);
  });

  it('an instance whose publisher died expires after its TTL', async () => {
    const dir = tmp();
    const publisher = fileRegistry(dir, { debounceMs: 10 });
    await publisher.publish(reg({ ttlMs: 600 }));
    const reader = createDiscovery(registry(dir));
    const lists: number[] = [];
    reader.watch('api', (list) => lists.push(list.length));
    await waitFor(() => lists.at(-1) === 1);
    // still alive well past its TTL while the publisher beats
    await new Promise((r) => setTimeout(r, 1000));
    expect(await reader.instances('api')).toHaveLength(1);
    // the publisher goes away without withdrawing (tend killed): the document stays, stale
    await publisher.close();
    await waitFor(() => lists.at(-1) === 0, { what: 'expiry', timeoutMs: 5000 });
    expect(existsSync(join(dir, 'api', 'api-host-8080.json'))).toBe(true);
    await reader.close();
  });

  it('a TTL beyond 24.8 days neither spins the watch nor the heartbeat (setTimeout would fire every ms)', async () => {
    const dir = tmp();
    const overflows: string[] = [];
    const onWarning = (w: Error) => {
      if (w.name === 'TimeoutOverflowWarning') overflows.push(w.message);
    };
    process.on('warning', onWarning);
    try {
      const publisher = registry(dir);
      // 100 days: the expiry timer and the heartbeat (a third of it) are both past 2^31-1 ms
      await publisher.publish(reg({ ttlMs: 100 * 86_400_000 }));
      const reader = createDiscovery(registry(dir));
      const lists: number[] = [];
      reader.watch('api', (list) => lists.push(list.length));
      await waitFor(() => lists.at(-1) === 1);
      // an overflowing timer fires within a millisecond and warns each time; give it a few hundred
      await new Promise((r) => setTimeout(r, 300));
      expect(overflows).toEqual([]);
      await reader.close();
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('skips documents that are stale, malformed or not documents at all', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'api'), { recursive: true });
    const stale = join(dir, 'api', 'old.json');
    writeFileSync(stale, JSON.stringify({ ID: 'old', Name: 'api', Port: 1, TTL: '10s' }));
    const past = new Date(Date.now() - 60_000);
    utimesSync(stale, past, past);
    writeFileSync(join(dir, 'api', 'junk.json'), '{not json');
    writeFileSync(join(dir, 'api', 'README'), 'hello');
    writeFileSync(
      join(dir, 'api', 'ok.json'),
      JSON.stringify({ ID: 'ok', Name: 'api', Port: 2, TTL: '10s' }),
    );
    const r = registry(dir);
    expect((await r.instances('api')).map((i) => i.ID)).toEqual(['ok']);
  });
});
