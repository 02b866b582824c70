import { mkdtempSync, rmSync } from 'node:fs';
import {
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  symlink,
  truncate,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type KvBackend, KvError, openKv } from '../../src/kv/index.js';
import { collect, eventually, sleep } from './collect.js';

let dir: string;
const open: KvBackend[] = [];

function kv(url: string, debounceMs = 30): KvBackend {
  const backend = openKv(url, { baseDir: dir, timing: { debounceMs } });
  open.push(backend);
  return backend;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tend-kv-file-'));
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.close()));
  await rm(dir, { recursive: true, force: true });
});

describe('file: folder store', () => {
  it('gets, lists, puts and deletes keys as files', async () => {
    await mkdir(join(dir, 'kv/config/web'), { recursive: true });
    await writeFile(join(dir, 'kv/config/web/port'), '8080');
    await writeFile(join(dir, 'kv/config/web/host'), 'example.org\n');
    await writeFile(join(dir, 'kv/config/web2'), 'other');
    await writeFile(join(dir, 'kv/config/.hidden'), 'no');
    await writeFile(join(dir, 'kv/config/web/port~'), 'backup');
    await writeFile(join(dir, 'kv/config/web/.port.swp'), 'vim');
    const store = kv('file:./kv');

    expect(await store.get('config/web/port')).toBe('8080');
    expect(await store.get('config/web/host')).toBe('example.org\n');
    expect(await store.get('config/web/missing')).toBeUndefined();
    expect(await store.get('config/web')).toBeUndefined();
    expect(await store.get('config/.hidden')).toBeUndefined();

    expect(await store.list('config/web')).toEqual([
      { key: 'config/web/host', value: 'example.org\n' },
      { key: 'config/web/port', value: '8080' },
      { key: 'config/web2', value: 'other' },
    ]);
    expect((await store.list('config/web/')).map((p) => p.key)).toEqual([
      'config/web/host',
      'config/web/port',
    ]);
    expect((await store.list('')).length).toBe(3);

    await store.put('config/db/url', 'postgres://db');
    expect(await readFile(join(dir, 'kv/config/db/url'), 'utf8')).toBe('postgres://db');
    await store.put('config/web/port', '9090');
    expect(await store.get('config/web/port')).toBe('9090');
    // atomic writes leave no temp files behind
    expect((await readdir(join(dir, 'kv/config/web'))).filter((n) => n.includes('tend-'))).toEqual([]);

    await store.delete('config/web/host');
    expect(await store.get('config/web/host')).toBeUndefined();
    await store.delete('config/', { prefix: true });
    expect(await store.list('')).toEqual([]);
    expect(await readdir(join(dir, 'kv'))).toEqual(['config']);
    // emptied folders are removed; ignored files keep theirs
    expect(await readdir(join(dir, 'kv/config'))).toEqual(['.hidden', 'web']);
    await store.put('gone/soon/x', '1');
    await store.delete('gone/soon/x');
    expect(await readdir(join(dir, 'kv'))).toEqual(['config']);
  });

  it('refuses keys that cannot be files', async () => {
    const store = kv('file:./kv');
    await expect(store.put('../escape', 'x')).rejects.toThrow(KvError);
    await expect(store.put('a//b', 'x')).rejects.toThrow(/cannot be a key/);
    await expect(store.put('.dot', 'x')).rejects.toThrow(/cannot be a key/);
    await store.put('folder/inner', '1');
    await expect(store.put('folder', 'x')).rejects.toMatchObject({ code: 'conflict' });
    await expect(store.put('folder/inner/deeper', 'x')).rejects.toMatchObject({ code: 'conflict' });
    // a caller's mistake is not an outage of the store
    expect(store.status().connected).toBe(true);
    expect((await readdir(join(dir, 'kv'))).sort()).toEqual(['folder']);
  });

  it('treats a missing folder as an empty store and notices when it appears', async () => {
    const store = kv('file:./later/kv');
    expect(await store.list('')).toEqual([]);
    expect(await store.get('a')).toBeUndefined();
    const c = collect();
    const w = store.watch({ keys: ['a'], prefixes: [] }, c.onChange);
    await w.synced();
    await mkdir(join(dir, 'later/kv'), { recursive: true });
    await writeFile(join(dir, 'later/kv/a'), 'hello');
    await c.until('a', 'hello');
    await w.close();
  });

  it('reports external edits, creations and deletions of watched keys only', async () => {
    await mkdir(join(dir, 'kv/app'), { recursive: true });
    await writeFile(join(dir, 'kv/app/a'), '1');
    await writeFile(join(dir, 'kv/other'), 'x');
    const store = kv('file:./kv');
    const c = collect();
    const w = store.watch({ keys: ['other'], prefixes: ['app/'] }, c.onChange);
    await w.synced();
    expect(c.all()).toEqual([]);

    await writeFile(join(dir, 'kv/app/a'), '2');
    await c.until('app/a', '2');
    await mkdir(join(dir, 'kv/app/deep/er'), { recursive: true });
    await writeFile(join(dir, 'kv/app/deep/er/b'), 'new');
    await c.until('app/deep/er/b', 'new');
    await unlink(join(dir, 'kv/other'));
    await c.until('other', undefined);
    // editor-style save: write a temp file, rename it over the original
    await writeFile(join(dir, 'kv/app/.a.tmp'), '3');
    await rename(join(dir, 'kv/app/.a.tmp'), join(dir, 'kv/app/a'));
    await c.until('app/a', '3');
    // a key nobody watches and ignored files never show up
    await writeFile(join(dir, 'kv/unwatched'), 'u');
    await writeFile(join(dir, 'kv/app/a~'), 'backup');
    await sleep(200);
    expect(c.all().map((ch) => ch.key)).not.toContain('unwatched');
    expect(c.all().map((ch) => ch.key)).not.toContain('app/a~');
    // our own writes are changes like any other
    await store.put('app/a', '4');
    await c.until('app/a', '4');
    // every reported change is a real difference
    for (const batch of c.batches) expect(batch.length).toBeGreaterThan(0);
    await w.close();
  });

  it('collapses a burst of writes into few batches with the final value', async () => {
    await mkdir(join(dir, 'kv'), { recursive: true });
    const store = kv('file:./kv', 100);
    const c = collect();
    const w = store.watch({ keys: [], prefixes: [''] }, c.onChange);
    await w.synced();
    for (let i = 0; i < 30; i++) await writeFile(join(dir, 'kv/burst'), String(i));
    for (let i = 0; i < 10; i++) await writeFile(join(dir, `kv/k${i}`), 'v');
    await c.until('burst', '29');
    await eventually(() => c.latest().size === 11, 5000, 'all keys');
    expect(c.batches.length).toBeLessThanOrEqual(4);
    await w.close();
  });

  it('update() adds keys silently and stops reporting removed ones', async () => {
    await mkdir(join(dir, 'kv'), { recursive: true });
    await writeFile(join(dir, 'kv/a'), '1');
    await writeFile(join(dir, 'kv/b'), '1');
    const store = kv('file:./kv');
    const c = collect();
    const w = store.watch({ keys: ['a'], prefixes: [] }, c.onChange);
    await w.synced();
    w.update({ keys: ['b'], prefixes: [] });
    await w.synced();
    await writeFile(join(dir, 'kv/a'), '2');
    await writeFile(join(dir, 'kv/b'), '2');
    await c.until('b', '2');
    expect(c.latest().has('a')).toBe(false);
    await w.close();
  });

  it('follows symlinks the way Kubernetes ConfigMap volumes use them', async () => {
    await mkdir(join(dir, 'kv/..2024_01'), { recursive: true });
    await writeFile(join(dir, 'kv/..2024_01/port'), '1');
    await symlink('..2024_01', join(dir, 'kv/..data'));
    await symlink('..data/port', join(dir, 'kv/port'));
    const store = kv('file:./kv');
    expect(await store.list('')).toEqual([{ key: 'port', value: '1' }]);
    const c = collect();
    const w = store.watch({ keys: ['port'], prefixes: [] }, c.onChange);
    await w.synced();
    // kubelet's update: new timestamped dir, swap the ..data link atomically
    await mkdir(join(dir, 'kv/..2024_02'));
    await writeFile(join(dir, 'kv/..2024_02/port'), '2');
    await symlink('..2024_02', join(dir, 'kv/..data_tmp'));
    await rename(join(dir, 'kv/..data_tmp'), join(dir, 'kv/..data'));
    await c.until('port', '2');
    await w.close();
  });

  it('emulates leases: revoke and close delete the keys put under them', async () => {
    const store = kv('file:./kv');
    const lease = await store.grantLease(5000);
    await store.put('services/web/1', 'addr', { lease });
    await store.put('services/web/2', 'addr', { lease });
    await store.put('services/web/2', 'detached');
    await lease.revoke();
    expect(await store.get('services/web/1')).toBeUndefined();
    expect(await store.get('services/web/2')).toBe('detached');
    await expect(store.put('x', 'y', { lease })).rejects.toThrow(/revoked lease/);

    const other = await store.grantLease(5000);
    await store.put('services/db/1', 'addr', { lease: other });
    await store.close();
    const reopened = kv('file:./kv');
    expect(await reopened.get('services/db/1')).toBeUndefined();
  });
});

describe('file: flattened YAML and JSON', () => {
  const yamlText = [
    '# settings for the shop',
    'web:',
    '  port: 8080 # the public port',
    '  version: 1.10',
    '  debug: false',
    '  empty:',
    '  hosts:',
    '    - a.example',
    '    - name: b.example',
    '      weight: 2',
    'db: {url: "postgres://db"}',
    '',
  ].join('\n');

  it('flattens nested maps and lists, keeping scalars as written', async () => {
    await writeFile(join(dir, 'kv.yaml'), yamlText);
    const store = kv('file:./kv.yaml');
    expect(await store.list('')).toEqual([
      { key: 'db/url', value: 'postgres://db' },
      { key: 'web/debug', value: 'false' },
      { key: 'web/empty', value: '' },
      { key: 'web/hosts/0', value: 'a.example' },
      { key: 'web/hosts/1/name', value: 'b.example' },
      { key: 'web/hosts/1/weight', value: '2' },
      { key: 'web/port', value: '8080' },
      { key: 'web/version', value: '1.10' },
    ]);
    expect(await store.get('web/port')).toBe('8080');
    expect(await store.get('web')).toBeUndefined();
  });

  it('writes keys back into the document, keeping comments', async () => {
    await writeFile(join(dir, 'kv.yaml'), yamlText);
    const store = kv('file:./kv.yaml');
    await store.put('web/port', '9090');
    await store.put('web/hosts/2', 'c.example');
    await store.put('cache/ttl', '60');
    const text = await readFile(join(dir, 'kv.yaml'), 'utf8');
    expect(text).toContain('# settings for the shop');
    expect(text).toContain('# the public port');
    expect(await store.get('web/port')).toBe('9090');
    expect(await store.get('web/hosts/2')).toBe('c.example');
    expect(await store.get('cache/ttl')).toBe('60');
    await expect(store.put('web/port/x', '1')).rejects.toThrow(/holds a value/);
    await expect(store.put('web/hosts/9', '1')).rejects.toThrow(/not a usable index/);

    await store.delete('web/hosts/0');
    // list items are removed, later ones move up
    expect(await store.get('web/hosts/0')).toBeUndefined();
    expect(await store.get('web/hosts/0/name')).toBe('b.example');
    expect(await store.get('web/hosts/1')).toBe('c.example');
    await store.delete('web/', { prefix: true });
    expect((await store.list('')).map((p) => p.key)).toEqual(['cache/ttl', 'db/url']);
  });

  it('watches a file that is broken from the start, and syncs once it is fixed', async () => {
    await writeFile(join(dir, 'kv.yaml'), 'a: [broken\n');
    const store = kv('file:./kv.yaml');
    const c = collect();
    const w = store.watch({ keys: [], prefixes: [''] }, c.onChange);
    let synced = false;
    void w.synced().then(() => {
      synced = true;
    });
    await eventually(() => !store.status().connected, 5000, 'status error');
    expect(synced).toBe(false);
    await writeFile(join(dir, 'kv.yaml'), 'a: 1\n');
    await eventually(() => synced, 5000, 'synced');
    expect(store.status().connected).toBe(true);
    await writeFile(join(dir, 'kv.yaml'), 'a: 2\n');
    await c.until('a', '2');
    await w.close();
  });

  it('creates a missing file on first put', async () => {
    const store = kv('file:./new/kv.yml');
    expect(await store.list('')).toEqual([]);
    await store.put('a/b', 'c');
    expect(await readFile(join(dir, 'new/kv.yml'), 'utf8')).toBe('a:\n  b: c\n');
  });

  it('handles JSON files', async () => {
    await writeFile(join(dir, 'kv.json'), JSON.stringify({ a: { b: 1, c: [true, null] } }));
    const store = kv('file:./kv.json');
    expect(await store.list('')).toEqual([
      { key: 'a/b', value: '1' },
      { key: 'a/c/0', value: 'true' },
      { key: 'a/c/1', value: '' },
    ]);
    await store.put('a/d', 'x');
    expect(JSON.parse(await readFile(join(dir, 'kv.json'), 'utf8'))).toEqual({
      a: { b: 1, c: [true, null], d: 'x' },
    });
  });

  it('reports the keys that changed when the file is edited, and survives a broken save', async () => {
    await writeFile(join(dir, 'kv.yaml'), yamlText);
    const store = kv('file:./kv.yaml');
    const c = collect();
    const w = store.watch({ keys: ['db/url'], prefixes: ['web/'] }, c.onChange);
    await w.synced();
    await writeFile(join(dir, 'kv.yaml'), yamlText.replace('8080', '8081').replace('weight: 2', 'weight: 3'));
    await c.until('web/port', '8081');
    expect(c.latest()).toEqual(
      new Map([
        ['web/port', '8081'],
        ['web/hosts/1/weight', '3'],
      ]),
    );
    c.reset();
    await writeFile(join(dir, 'kv.yaml'), 'web: [unclosed\n');
    await eventually(() => !store.status().connected, 5000, 'status error');
    expect(store.status().error).toMatch(/kv\.yaml:\d+:\d+/);
    await expect(store.get('web/port')).rejects.toThrow(KvError);
    expect(c.all()).toEqual([]);
    await writeFile(join(dir, 'kv.yaml'), yamlText.replace('postgres://db', 'postgres://db2'));
    await c.until('db/url', 'postgres://db2');
    expect(store.status().connected).toBe(true);
    // back to 8080 and weight 2 compared with the last good read
    expect(c.latest().get('web/port')).toBe('8080');
    await w.close();
  });
});

describe('file: a save that truncates, then writes', () => {
  it('the moment the document is empty is not read as every key deleted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-kv-trunc-'));
    try {
      const file = join(dir, 'kv.yaml');
      await writeFile(file, 'web:\n  port: 8080\n');
      const store = openKv(`file:${file}`, { baseDir: dir });
      const seen: Array<{ key: string; value: string | undefined }> = [];
      const w = store.watch({ keys: [], prefixes: ['web/'] }, (changes) => seen.push(...changes));
      await w.synced();
      // what `>` does: truncate, then, a moment later, the new text
      await truncate(file, 0);
      await new Promise((r) => setTimeout(r, 40));
      await writeFile(file, 'web:\n  port: 8081\n');
      const deadline = Date.now() + 5000;
      while (!seen.some((c) => c.value === '8081') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(seen.filter((c) => c.value === undefined)).toEqual([]);
      expect(seen.at(-1)).toEqual({ key: 'web/port', value: '8081' });
      await w.close();
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
