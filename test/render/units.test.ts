/** envconsul's naming rules, and the multi-pass resolution against a real (file) store. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type KvBackend, openKv } from '../../src/kv/index.js';
import { createSnapshot, envFromPairs, envName, envPrefix, resolveTemplate } from '../../src/render/index.js';
import { parseConsulTemplate } from '../../src/template/index.js';
import { put } from './harness.js';

const dirs: string[] = [];
const stores: KvBackend[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function store(keys: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'tend-units-'));
  dirs.push(dir);
  for (const [k, v] of Object.entries(keys)) put(dir, `kv/${k}`, v);
  const kv = openKv('file:./kv', { baseDir: dir, env: {} });
  stores.push(kv);
  return { kv, dir };
}

describe('env_from naming (envconsul)', () => {
  it('relative key, sanitised to [A-Za-z0-9_], upper-cased', () => {
    expect(envName('db/host')).toBe('DB_HOST');
    expect(envName('log-level')).toBe('LOG_LEVEL');
    expect(envName('a.b c')).toBe('A_B_C');
    expect(envPrefix({ prefix: 'config/web' })).toBe('config/web/');
    expect(envPrefix({ prefix: 'config/web/' })).toBe('config/web/');
  });

  it('skips folder markers; a later prefix wins', () => {
    expect(
      envFromPairs([
        {
          prefix: 'common/',
          pairs: [
            { key: 'common/port', value: '1' },
            { key: 'common/dir/', value: '' },
          ],
        },
        {
          prefix: 'web/',
          pairs: [
            { key: 'web/port', value: '2' },
            { key: 'web/name', value: 'w' },
          ],
        },
      ]),
    ).toEqual({ PORT: '2', NAME: 'w' });
  });
});

describe('resolveTemplate', () => {
  const tpl = (text: string) => parseConsulTemplate('t', text);

  it('fetches what each pass lacked until complete, and reports what it read', async () => {
    const { kv, dir } = store({
      'env/current': 'prod',
      'prod/db': 'pg1',
      'prod/hosts/a': '1',
      'prod/hosts/b': '2',
    });
    const snap = createSnapshot(kv, { baseDir: dir });
    const r = await resolveTemplate(
      tpl(
        '{{ $e := key "env/current" }}{{ key (printf "%s/db" $e) }}{{ range ls (printf "%s/hosts" $e) }} {{ .Key }}={{ .Value }}{{ end }}',
      ),
      undefined,
      snap,
      { missing: 'wait', env: {} },
    );
    expect(r).toMatchObject({ status: 'complete', output: 'pg1 a=1 b=2' });
    expect(r.deps).toMatchObject({ keys: ['env/current', 'prod/db'], prefixes: ['prod/hosts'] });
  });

  it('missing keys, sentinels and empty mode', async () => {
    const { kv, dir } = store({ a: '1' });
    const snap = createSnapshot(kv, { baseDir: dir });
    expect(
      await resolveTemplate(tpl('{{ key "a" }}{{ key "b" }}'), undefined, snap, { missing: 'wait', env: {} }),
    ).toMatchObject({ status: 'incomplete', missing: ['key:b'], reason: 'needs key:b' });
    expect(
      await resolveTemplate(tpl('{{ key "a" }}[{{ key "b" }}]'), undefined, snap, {
        missing: 'empty',
        env: {},
      }),
    ).toMatchObject({ status: 'complete', output: '1[]' });
    expect(
      await resolveTemplate(tpl('{{ keyOrDefault "b" "@@X@@" }}'), undefined, snap, {
        missing: 'wait',
        sentinel: '@@X@@',
        env: {},
      }),
    ).toMatchObject({ status: 'incomplete', missing: ['sentinel:@@X@@'] });
    expect(
      await resolveTemplate(tpl('{{ parseJSON (key "a") | len }}'), undefined, snap, {
        missing: 'wait',
        env: {},
      }),
    ).toMatchObject({
      status: 'error',
    });
  });

  it('applies watch changes to what it holds', async () => {
    const { kv, dir } = store({ a: '1', 'p/x': '1' });
    const snap = createSnapshot(kv, { baseDir: dir });
    const t = tpl('{{ key "a" }}{{ range ls "p" }}{{ .Key }}{{ end }}');
    await resolveTemplate(t, undefined, snap, { missing: 'wait', env: {} });
    snap.apply([
      { key: 'a', value: '2' },
      { key: 'p/y', value: '1' },
      { key: 'p/x', value: undefined },
    ]);
    expect(await resolveTemplate(t, undefined, snap, { missing: 'wait', env: {} })).toMatchObject({
      output: '2y',
    });
    snap.apply([{ key: 'a', value: undefined }]);
    expect(await resolveTemplate(t, undefined, snap, { missing: 'wait', env: {} })).toMatchObject({
      status: 'incomplete',
      missing: ['key:a'],
    });
  });
});
