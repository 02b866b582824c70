import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT, StartError } from '../../src/app/index.js';
import { effectiveSettings } from '../../src/lifecycle/index.js';
import type { Plan } from '../../src/manifest/types.js';
import { SettingsError } from '../../src/settings/index.js';
import { servicePlan, sh, stackPlan } from '../helpers/plan.js';
import { waitFor } from '../helpers/wait.js';
import { cleanup, script, tmp, up } from './harness.js';

afterEach(cleanup);

function appWithSettings(dir: string): Plan {
  writeFileSync(
    join(dir, 'defaults.json'),
    JSON.stringify({ memory: 200, db: { port: 5432, host: 'localhost' } }),
  );
  writeFileSync(
    join(dir, 'settings.schema.json'),
    JSON.stringify({
      type: 'object',
      properties: {
        memory: { type: 'integer', minimum: 64 },
        db: { type: 'object', properties: { port: { type: 'integer' }, host: { type: 'string' } } },
      },
    }),
  );
  // the service and the boot stage both copy what they were given
  script(dir, 'bin/boot', 'cp "$TEND_SETTINGS_FILE" boot-saw.json');
  return stackPlan(
    dir,
    [servicePlan('web', 'cp "$TEND_SETTINGS_FILE" web-saw.json; exec sleep 1000', { cwd: dir })],
    {
      file: join(dir, 'tend.yaml'),
      settings: {
        defaults: {},
        defaultsFile: join(dir, 'defaults.json'),
        files: [],
        schemaFile: join(dir, 'settings.schema.json'),
        env: 'CFG',
      },
      stages: { boot: { command: sh('./bin/boot'), timeoutMs: 5000 } },
    },
  );
}

describe('settings in tend up', () => {
  it('CFG overrides the defaults (coerced by the schema); services and stages get TEND_SETTINGS_FILE', async () => {
    const dir = tmp();
    const plan = appWithSettings(dir);
    const s = await up(plan, { env: { ...process.env, CFG: '{"memory":"400","db":{"host":"db1"}}' } });
    const expected = { memory: 400, db: { port: 5432, host: 'db1' } };
    expect(s.rt.settings()).toEqual(expected);
    expect(s.rt.settingsFile).toBe(join(plan.stateDir, 'settings.json'));
    expect(statSync(s.rt.settingsFile as string).mode & 0o777).toBe(0o600);
    await waitFor(() => s.rt.appState() === 'UP', { what: 'UP' });
    await waitFor(() => readFileSync(join(dir, 'web-saw.json'), 'utf8'), { what: 'web copied the file' });
    expect(JSON.parse(readFileSync(join(dir, 'web-saw.json'), 'utf8'))).toEqual(expected);
    expect(JSON.parse(readFileSync(join(dir, 'boot-saw.json'), 'utf8'))).toEqual(expected);
  });

  it('a schema violation refuses to start with exit 2, naming the path and where it came from', async () => {
    const dir = tmp();
    const plan = appWithSettings(dir);
    const err = await up(plan, { env: { ...process.env, CFG: '{"memory":"lots"}' } }).catch((e) => e);
    expect(err).toBeInstanceOf(StartError);
    expect((err as StartError).exitCode).toBe(EXIT.usage);
    expect((err as Error).message).toContain('settings.memory: must be integer (got "lots") — from $CFG');
    // nothing ran
    expect(() => readFileSync(join(dir, 'boot-saw.json'))).toThrow();
  });

  it('bad JSON in $CFG is refused the same way', async () => {
    const dir = tmp();
    const err = await up(appWithSettings(dir), { env: { ...process.env, CFG: '{memory: 1' } }).catch(
      (e) => e,
    );
    expect((err as StartError).exitCode).toBe(EXIT.usage);
    expect((err as Error).message).toMatch(/^\$CFG is not valid JSON/);
  });

  it('effectiveSettings gives the offline value, with a KV overlay when given', async () => {
    const dir = tmp();
    const plan = appWithSettings(dir);
    const env = { CFG: '{"memory":400}' };
    expect((await effectiveSettings(plan, env)).value).toEqual({
      memory: 400,
      db: { port: 5432, host: 'localhost' },
    });
    const withKv = await effectiveSettings(plan, env, [{ key: 'db/port', value: '6543' }]);
    expect(withKv.value).toEqual({ memory: 400, db: { port: 6543, host: 'localhost' } });
    await expect(effectiveSettings(plan, { CFG: '{"memory":1}' })).rejects.toThrow(SettingsError);
  });

  it('updateSettings rewrites the file and publishes a config event only when the value changed', async () => {
    const dir = tmp();
    const plan = appWithSettings(dir);
    const s = await up(plan);
    expect(await s.rt.updateSettings([{ key: 'memory', value: '512' }])).toBe(true);
    expect(JSON.parse(readFileSync(s.rt.settingsFile as string, 'utf8')).memory).toBe(512);
    expect(await s.rt.updateSettings([{ key: 'memory', value: '512' }])).toBe(false);
    expect(s.events.filter((e) => e.kind === 'config' && e.action === 'settings')).toHaveLength(1);
    await expect(s.rt.updateSettings([{ key: 'memory', value: 'x' }])).rejects.toThrow(/settings.memory/);
    expect(s.rt.settings().memory).toBe(512);
  });

  it('tend run (no manifest) has no settings and still runs', async () => {
    const dir = tmp();
    const plan = stackPlan(dir, [servicePlan('one', 'exec sleep 1000')]);
    const s = await up(plan, { env: { ...process.env, CFG: 'not json at all' } });
    await waitFor(() => s.rt.appState() === 'UP', { what: 'UP' });
    expect(s.rt.settings()).toEqual({});
    expect(s.rt.settingsFile).toBeUndefined();
  });
});
