import { describe, expect, it } from 'vitest';
import { collectExport, exportVariables, flattenSettings, type KvReader } from '../../src/export/index.js';
import type { Plan } from '../../src/manifest/types.js';
import { servicePlan } from '../helpers/plan.js';

describe('settings as variables', () => {
  it('flattens leaves to SETTINGS_ names, sanitised and upper-cased like env_from', () => {
    const vars = flattenSettings({
      db: { host: 'x', port: 5432, 'read-only': true },
      hosts: ['a', { name: 'b' }],
      nothing: null,
      empty: {},
      none: [],
    });
    expect(vars.map((v) => [v.name, v.value])).toEqual([
      ['SETTINGS_DB_HOST', 'x'],
      ['SETTINGS_DB_PORT', '5432'],
      ['SETTINGS_DB_READ_ONLY', 'true'],
      ['SETTINGS_HOSTS_0', 'a'],
      ['SETTINGS_HOSTS_1_NAME', 'b'],
      ['SETTINGS_NOTHING', ''],
      ['SETTINGS_EMPTY', '{}'],
      ['SETTINGS_NONE', '[]'],
    ]);
    expect(vars[0].from).toBe('settings db.host');
  });

  it('refuses two paths that become one name, and says what to do', () => {
    expect(() => flattenSettings({ db: { port: 1 }, 'db.port': 2 })).toThrow(
      /settings db.port and db.port both become SETTINGS_DB_PORT; rename one of them, or export with --settings json/,
    );
  });

  it('puts settings first, then the service env, then env_from (later wins, first position kept)', () => {
    const { vars, warnings } = exportVariables({
      settings: { port: 1 },
      settingsVar: 'CFG',
      mode: 'both',
      serviceEnv: { service: 'web', env: { PORT: '8080', SETTINGS_PORT: 'from env' } },
      envFrom: [{ service: 'web', vars: { PORT: '9090', DB: 'x' } }],
    });
    expect(vars.map((v) => [v.name, v.value, v.from])).toEqual([
      ['CFG', '{"port":1}', 'settings (JSON)'],
      ['SETTINGS_PORT', 'from env', 'web env'],
      ['PORT', '9090', 'web env_from'],
      ['DB', 'x', 'web env_from'],
    ]);
    expect(warnings).toEqual([]);
  });

  it('json, flat and none modes', () => {
    const base = { settings: { a: { b: 'c' } }, settingsVar: 'APP_CFG', envFrom: [] };
    const names = (mode: 'json' | 'flat' | 'none') =>
      exportVariables({ ...base, mode }).vars.map((v) => v.name);
    expect(names('json')).toEqual(['APP_CFG']);
    expect(names('flat')).toEqual(['SETTINGS_A_B']);
    expect(names('none')).toEqual([]);
    expect(exportVariables({ ...base, mode: 'flat', flatPrefix: 'APP_' }).vars[0].name).toBe('APP_A_B');
  });

  it('warns when two services set one env_from variable differently', () => {
    const { vars, warnings } = exportVariables({
      settings: {},
      settingsVar: 'CFG',
      mode: 'none',
      envFrom: [
        { service: 'web', vars: { DB: 'a', SAME: 's' } },
        { service: 'worker', vars: { DB: 'b', SAME: 's' } },
      ],
    });
    expect(vars.find((v) => v.name === 'DB')?.value).toBe('b');
    expect(warnings).toEqual([
      "DB differs between the env_from of web and of worker; worker's is exported (use --service to export one service)",
    ]);
  });
});

describe('collectExport', () => {
  const plan = (): Plan =>
    ({
      file: '/x/tend.yaml',
      dir: '/x',
      name: 'shop',
      kv: 'file:./kv',
      settings: { defaults: { db: { port: 5432 } }, files: [], env: 'CFG', kvPrefix: 'settings/' },
      services: {
        web: servicePlan('web', 'true', { env: { PORT: '8080' }, envFrom: [{ prefix: 'config/web' }] }),
        worker: servicePlan('worker', 'true', { envFrom: [{ prefix: 'config/worker/' }] }),
      },
      order: ['web', 'worker'],
    }) as unknown as Plan;
  const store = (pairs: Record<string, string>): KvReader => ({
    url: 'file:./kv',
    async list(prefix) {
      return Object.entries(pairs)
        .filter(([k]) => k.startsWith(prefix))
        .map(([key, value]) => ({ key, value }));
    },
  });
  const kv = store({
    'settings/db/port': '6543',
    'config/web/db/host': 'db.internal',
    'config/web2/not-mine': 'x',
    'config/worker/queue-name': 'jobs',
  });

  it('reads the settings overlay and env_from like a running tend', async () => {
    const input = await collectExport(plan(), { env: {}, kv, mode: 'both' });
    expect(input.settings).toEqual({ db: { port: '6543' } });
    expect(input.envFrom).toEqual([
      { service: 'web', vars: { DB_HOST: 'db.internal' } },
      { service: 'worker', vars: { QUEUE_NAME: 'jobs' } },
    ]);
    expect(input.serviceEnv).toBeUndefined();
  });

  it('one service: its env and only its env_from', async () => {
    const input = await collectExport(plan(), {
      env: { CFG: '{"db":{"user":"u"}}' },
      kv,
      mode: 'both',
      service: 'web',
    });
    expect(input.serviceEnv).toEqual({ service: 'web', env: { PORT: '8080' } });
    expect(input.envFrom).toEqual([{ service: 'web', vars: { DB_HOST: 'db.internal' } }]);
    expect(input.settings).toEqual({ db: { port: '6543', user: 'u' } });
  });

  it('without a store: no overlay, no env_from', async () => {
    const input = await collectExport(plan(), { env: {}, mode: 'both' });
    expect(input.settings).toEqual({ db: { port: 5432 } });
    expect(input.envFrom).toEqual([]);
  });

  it('a store that does not answer is an error that says what to do', async () => {
    const silent: KvReader = { url: 'consul://10.0.0.1:8500', list: () => new Promise(() => {}) };
    await expect(collectExport(plan(), { env: {}, kv: silent, mode: 'both', timeoutMs: 50 })).rejects.toThrow(
      /cannot read settings\/ from the KV store consul:\/\/10.0.0.1:8500: no answer within 50ms; .*--no-kv/,
    );
  });
});
