import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SettingsPlan } from '../../src/manifest/types.js';
import { getPath, loadSettings, SettingsError, writeSettingsFile } from '../../src/settings/index.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tend-settings-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const plan = (over: Partial<SettingsPlan> = {}): SettingsPlan => ({
  defaults: {},
  files: [],
  env: 'CFG',
  ...over,
});

async function put(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

async function failure(p: Promise<unknown>): Promise<SettingsError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SettingsError);
  return err as SettingsError;
}

describe('loadSettings: layers', () => {
  it('CFG overrides a default and keeps the rest (whaleware)', async () => {
    const { value, sources } = await loadSettings(plan({ defaults: { memory: 200, name: 'x' } }), {
      env: { CFG: '{"memory":400}' },
    });
    expect(value).toEqual({ memory: 400, name: 'x' });
    expect(sources).toEqual(['defaults', '$CFG']);
  });

  it('merges nested objects deeply and never mutates the plan', async () => {
    const defaults = { db: { host: 'localhost', port: 5432, pool: { min: 1, max: 10 } }, debug: false };
    const { value } = await loadSettings(plan({ defaults }), {
      env: { CFG: JSON.stringify({ db: { pool: { max: 50 } }, debug: true }) },
    });
    expect(value).toEqual({ db: { host: 'localhost', port: 5432, pool: { min: 1, max: 50 } }, debug: true });
    expect(defaults.db.pool.max).toBe(10);
  });

  it('replaces arrays instead of merging them', async () => {
    const { value } = await loadSettings(plan({ defaults: { hosts: ['a', 'b', 'c'] } }), {
      env: { CFG: '{"hosts":["z"]}' },
    });
    expect(value.hosts).toEqual(['z']);
  });

  it('reads defaults from a JSON file, then YAML and JSON files in order, then CFG', async () => {
    const defaultsFile = await put('defaults.json', { a: 1, b: 1, c: 1, d: 1 });
    const y = await put('site.yaml', 'b: 2\nc: 2\nd: 2\n');
    const j = await put('local.json', { c: 3, d: 3 });
    const { value, sources } = await loadSettings(
      plan({ defaults: { a: 0, z: 0 }, defaultsFile, files: [y, j], env: 'APP_CFG' }),
      { env: { APP_CFG: '{"d":4}', CFG: '{"d":99}' } },
    );
    expect(value).toEqual({ a: 1, b: 2, c: 3, d: 4, z: 0 });
    expect(sources).toEqual(['defaults', defaultsFile, y, j, '$APP_CFG']);
  });

  it('ignores an empty CFG', async () => {
    const { value, sources } = await loadSettings(plan({ defaults: { a: 1 } }), { env: { CFG: '  ' } });
    expect(value).toEqual({ a: 1 });
    expect(sources).toEqual(['defaults']);
  });

  it('a missing defaults file names its path', async () => {
    const missing = join(dir, 'nope', 'defaults.json');
    const err = await failure(loadSettings(plan({ defaultsFile: missing }), { env: {} }));
    expect(err.message).toContain(missing);
    expect(err.message).toMatch(/not found/);
  });

  it('a bad JSON file names the file and the position', async () => {
    const f = await put('broken.json', '{\n  "a": 1,\n  "b": ,\n}');
    const err = await failure(loadSettings(plan({ files: [f] }), { env: {} }));
    expect(err.message).toContain(f);
    expect(err.message).toContain('line 3, column 8');
  });
});

describe('loadSettings: $CFG errors', () => {
  it('bad JSON in CFG names the variable and where it broke', async () => {
    const err = await failure(loadSettings(plan(), { env: { CFG: '{"memory": 400,}' } }));
    expect(err.message).toContain('$CFG');
    expect(err.message).toMatch(/line 1, column 16/);
  });

  it('names a custom env var too', async () => {
    const err = await failure(loadSettings(plan({ env: 'SHOP_CFG' }), { env: { SHOP_CFG: '{"a":' } }));
    expect(err.message).toContain('$SHOP_CFG');
    expect(err.message).toMatch(/unexpected end of input/);
  });

  it('CFG must be an object', async () => {
    const err = await failure(loadSettings(plan(), { env: { CFG: '[1,2]' } }));
    expect(err.message).toMatch(/\$CFG must hold a JSON object, got an array/);
  });
});

describe('loadSettings: KV overlay and schema', () => {
  const schema = {
    type: 'object',
    properties: {
      name: { type: 'string' },
      db: {
        type: 'object',
        properties: {
          host: { type: 'string' },
          port: { type: 'integer' },
          password: { type: 'string', minLength: 12 },
        },
        additionalProperties: false,
      },
      debug: { type: 'boolean', default: false },
      servers: { type: 'array', items: { type: 'object', properties: { host: { type: 'string' } } } },
      level: { enum: ['debug', 'info'] },
    },
  };

  it('overlays KV pairs by path and coerces "8080" to 8080 where the schema says integer', async () => {
    const schemaFile = await put('schema.json', schema);
    const { value, sources } = await loadSettings(
      plan({ defaults: { db: { host: 'h', port: 1 } }, schemaFile, kvPrefix: 'settings/' }),
      {
        env: {},
        kv: [
          { key: 'db/port', value: '8080' },
          { key: 'servers', value: '[{"host":"a"},{"host":"b"}]' },
          { key: 'servers/1/host', value: 'c' },
          { key: 'name', value: '[not json' },
        ],
      },
    );
    expect(value).toEqual({
      db: { host: 'h', port: 8080 },
      servers: [{ host: 'a' }, { host: 'c' }],
      name: '[not json',
      debug: false,
    });
    expect(sources).toEqual(['defaults', 'kv:settings/']);
  });

  it('a JSON object in a parent key is refined by child keys', async () => {
    const { value } = await loadSettings(plan({ defaults: { db: { host: 'h' } } }), {
      env: {},
      kv: [
        { key: 'db/port', value: '1' },
        { key: 'db', value: '{"port":"2","user":"u"}' },
      ],
    });
    expect(value).toEqual({ db: { host: 'h', port: '1', user: 'u' } });
  });

  it('a schema violation names the path and the source', async () => {
    const schemaFile = await put('schema.json', schema);
    const err = await failure(
      loadSettings(plan({ defaults: { db: { port: 5432 } }, schemaFile, kvPrefix: 'settings/' }), {
        env: { CFG: '{"db":{"port":"eighty"}}' },
      }),
    );
    expect(err.message).toContain('settings.db.port: must be integer (got "eighty") — from $CFG');
  });

  it('lists every failing path, each with its source', async () => {
    const schemaFile = await put('schema.json', schema);
    const file = await put('site.json', { level: 'loud' });
    const err = await failure(
      loadSettings(plan({ files: [file], schemaFile, kvPrefix: 'settings' }), {
        env: { CFG: '{"db":{"extra":1}}' },
        kv: [
          { key: 'db/port', value: 'eighty' },
          { key: 'db/password', value: 'short' },
        ],
      }),
    );
    expect(err.issues).toHaveLength(4);
    expect(err.message).toContain(
      'settings.db.port: must be integer (got "eighty") — from kv settings/db/port',
    );
    expect(err.message).toContain('settings.db.extra: is not allowed by the schema (got 1) — from $CFG');
    expect(err.message).toContain(
      `settings.level: must be one of "debug", "info" (got "loud") — from ${file}`,
    );
    // Secrets never reach the logs through an error message.
    expect(err.message).toContain(
      'settings.db.password: must NOT have fewer than 12 characters (got a redacted',
    );
    expect(err.message).not.toContain('short');
  });

  it('a required key is reported by its full path', async () => {
    const schemaFile = await put(
      'schema.yaml',
      'type: object\nrequired: [db]\nproperties:\n  db: { type: object, required: [host] }\n',
    );
    const err = await failure(loadSettings(plan({ defaults: { db: {} }, schemaFile }), { env: {} }));
    expect(err.message).toContain('settings.db.host: is required');
  });

  it('supports draft 2020-12 schemas', async () => {
    const schemaFile = await put('schema.json', {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { ports: { type: 'array', prefixItems: [{ type: 'integer' }] } },
    });
    const { value } = await loadSettings(plan({ schemaFile }), {
      env: {},
      kv: [{ key: 'ports', value: '["80"]' }],
    });
    expect(value.ports).toEqual([80]);
  });

  it('an invalid schema and a missing schema name the schema file', async () => {
    const bad = await put('bad.json', { type: 'nonsense' });
    expect((await failure(loadSettings(plan({ schemaFile: bad }), { env: {} }))).message).toContain(bad);
    const missing = join(dir, 'missing.json');
    expect((await failure(loadSettings(plan({ schemaFile: missing }), { env: {} }))).message).toContain(
      missing,
    );
  });
});

describe('getPath', () => {
  const value = { memory: 400, db: { port: 5432, nil: null }, servers: [{ host: 'a' }, { host: 'b' }] };

  it('reads top-level, nested and array paths', () => {
    expect(getPath(value)).toBe(value);
    expect(getPath(value, '')).toBe(value);
    expect(getPath(value, 'memory')).toBe(400);
    expect(getPath(value, 'db.port')).toBe(5432);
    expect(getPath(value, '.db.port')).toBe(5432);
    expect(getPath(value, 'servers.1.host')).toBe('b');
    expect(getPath(value, 'servers.1')).toEqual({ host: 'b' });
    expect(getPath(value, 'db.nil')).toBeNull();
  });

  it('is undefined for anything missing, including inherited properties', () => {
    expect(getPath(value, 'nope')).toBeUndefined();
    expect(getPath(value, 'db.port.x')).toBeUndefined();
    expect(getPath(value, 'servers.9.host')).toBeUndefined();
    expect(getPath(value, 'servers.length')).toBeUndefined();
    expect(getPath(value, 'constructor')).toBeUndefined();
    expect(getPath(value, 'db..port')).toBeUndefined();
  });
});

describe('writeSettingsFile', () => {
  it('writes settings.json with mode 0600 and no temp files left behind', async () => {
    const out = join(dir, 'state');
    const path = await writeSettingsFile(out, { db: { password: 'secret' } });
    expect(path).toBe(join(out, 'settings.json'));
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ db: { password: 'secret' } });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(out)).toEqual(['settings.json']);
  });

  it('skips the write when the bytes are unchanged, and replaces the file atomically when they change', async () => {
    const path = await writeSettingsFile(dir, { a: 1 });
    const first = await stat(path);
    await new Promise((r) => setTimeout(r, 20));
    await writeSettingsFile(dir, { a: 1 });
    const again = await stat(path);
    expect(again.ino).toBe(first.ino);
    expect(again.mtimeMs).toBe(first.mtimeMs);

    await writeSettingsFile(dir, { a: 2 });
    const changed = await stat(path);
    // A new inode: the content was renamed into place, never written over the file a reader may hold open.
    expect(changed.ino).not.toBe(first.ino);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ a: 2 });
    expect((changed.mode & 0o777).toString(8)).toBe('600');
  });

  it('readers never see a partial file while it is rewritten', async () => {
    const big = (n: number) => ({ n, data: 'x'.repeat(200_000) });
    await writeSettingsFile(dir, big(0));
    const path = join(dir, 'settings.json');
    let reads = 0;
    let writing = true;
    const reader = (async () => {
      while (writing) {
        JSON.parse(await readFile(path, 'utf8'));
        reads++;
      }
    })();
    for (let i = 1; i <= 20; i++) await writeSettingsFile(dir, big(i));
    writing = false;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect(JSON.parse(await readFile(path, 'utf8')).n).toBe(20);
  });
});

describe('settings nested absurdly deep', () => {
  const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;

  it('a 20,000-deep $CFG is a settings error, not a stack overflow', async () => {
    const err = await failure(loadSettings(plan(), { env: { CFG: deep(20_000) } }));
    expect(err.message).toMatch(/^\$CFG nests deeper than 200 levels/);
  });

  it('the same in a settings file and in a KV value', async () => {
    const file = join(dir, 'deep.json');
    await writeFile(file, deep(20_000));
    const fromFile = await failure(loadSettings(plan({ files: [file] }), { env: {} }));
    expect(fromFile.message).toMatch(/^settings file .*deep\.json nests deeper than 200 levels/);
    const fromKv = await failure(
      loadSettings(plan({ kvPrefix: 'cfg/' }), { env: {}, kv: [{ key: 'db', value: deep(5000) }] }),
    );
    expect(fromKv.message).toMatch(/^kv cfg\/db nests deeper than 200 levels/);
  });

  it('a configuration of ordinary depth loads', async () => {
    const loaded = await loadSettings(plan(), { env: { CFG: deep(50) } });
    expect(JSON.stringify(loaded.value)).toBe(deep(50));
  });
});
