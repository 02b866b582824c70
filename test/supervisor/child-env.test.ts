/**
 * The one environment of a service's children: the service, its exec readiness probe and its finish hook all
 * see env_from variables, the manifest's env, TEND_APP, TEND_DATA_DIR, TEND_SERVICE and tend's TEND_INSTANCE
 * marker. Before, a readiness probe got neither env_from nor the marker, and a finish hook neither.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { healthModule } from '../../src/health/index.js';
import { appEnv, serviceEnv } from '../../src/supervisor/index.js';
import { startTend } from '../helpers/cli.js';
import { servicePlan, sh, stackPlan } from '../helpers/plan.js';
import { waitFor } from '../helpers/wait.js';
import { cleanup, tmp, up } from '../lifecycle/harness.js';

afterEach(cleanup);

/** `env -0` output as a map (values may hold newlines). */
function readEnv(file: string): Record<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const entry of text.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) out[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return out;
}

describe('the environment of a service and of its children', () => {
  it('the exec readiness probe and the finish hook get what the service gets', async () => {
    const dir = tmp();
    const marker = 'run1:web:@tend';
    // The first run waits for the test's go, then exits (so the finish hook runs, env_from set by then); the
    // second dumps its env and stays up. The probe passes only once it sees the env_from variable.
    const web = servicePlan(
      'web',
      `test -f ${dir}/ran || { touch ${dir}/ran; while [ ! -f ${dir}/go ]; do sleep 0.02; done; exit 3; }
       env -0 > ${dir}/service.env; exec sleep 1000`,
      {
        cwd: dir,
        env: { FROM_MANIFEST: 'm' },
        ready: {
          probe: { kind: 'exec', command: sh(`env -0 > ${dir}/probe.env; test -n "$FROM_KV"`) },
          intervalMs: 50,
          timeoutMs: 60_000,
        },
        finish: sh(`env -0 > ${dir}/finish.env`),
        finishTimeoutMs: 5000,
      },
    );
    const health = healthModule();
    const s = await up(stackPlan(dir, [web]), {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', FROM_TEND: 't' },
      attach: [health.attach],
      extra: { serviceHooks: [health.serviceHooks], serviceEnv: () => ({ TEND_INSTANCE: marker }) },
    });
    // what the render loop does when env_from renders
    s.rt.stack.setEnv('web', { FROM_KV: 'k' });
    writeFileSync(join(dir, 'go'), '');
    await waitFor(() => s.rt.stack.status()[0].state === 'ready', { what: 'web ready', timeoutMs: 30_000 });
    await waitFor(() => readEnv(join(dir, 'finish.env')), { what: 'the finish hook' });

    const expected = {
      FROM_TEND: 't',
      FROM_MANIFEST: 'm',
      FROM_KV: 'k',
      TEND_APP: 'test',
      TEND_SERVICE: 'web',
      TEND_DATA_DIR: `${dir}/data`,
      TEND_INSTANCE: marker,
    };
    expect(readEnv(join(dir, 'probe.env'))).toMatchObject(expected);
    expect(readEnv(join(dir, 'finish.env'))).toMatchObject({ ...expected, TEND_EXIT_CODE: '3' });
    expect(readEnv(join(dir, 'service.env'))).toMatchObject(expected);
  });
});

describe('short commands of a service under tend up', () => {
  it('a finish hook still running when its service stops is not taken for a daemon that escaped it', async () => {
    const dir = tmp();
    writeFileSync(
      join(dir, 'tend.yaml'),
      [
        'name: hook-marker',
        'services:',
        '  web:',
        `    command: test -f ${dir}/ran || { touch ${dir}/ran; exit 3; }; exec sleep 1000`,
        `    finish: touch ${dir}/finishing; exec sleep 2`,
        '    finish_timeout: 60s',
        '',
      ].join('\n'),
    );
    const tend = startTend(['up'], { cwd: dir });
    await waitFor(() => existsSync(join(dir, 'finishing')), {
      what: 'the finish hook to run',
      timeoutMs: 30_000,
    });
    await tend.waitForOutput(/web (started|running)/, 30_000).catch(() => undefined);
    tend.kill('SIGTERM');
    expect(await tend.exit(30_000)).toBe(0);
    // the hook carries web's marker, TEND_INSTANCE=<run>:web, yet it is tend's own command, ended by its runner
    expect(tend.output()).not.toMatch(/left the process group|escaped their process group/);
  });
});

describe('serviceEnv and appEnv', () => {
  const src = {
    base: { PATH: '/bin', TEND_DATA_DIR: 'from-parent' },
    app: 'a',
    dataDir: '/d',
    settingsFile: '/s',
  };

  it('layers tend, manifest env, env_from, then tend’s own variables', () => {
    const env = serviceEnv(
      src,
      { name: 'web', env: { X: 'manifest', Y: 'manifest', TEND_APP: 'mine' } },
      { envFrom: { Y: 'kv' }, tend: { TEND_INSTANCE: 'i' } },
    );
    expect(env).toEqual({
      PATH: '/bin',
      X: 'manifest',
      Y: 'kv',
      TEND_APP: 'a',
      TEND_DATA_DIR: '/d',
      TEND_SETTINGS_FILE: '/s',
      TEND_INSTANCE: 'i',
      TEND_SERVICE: 'web',
    });
  });

  it('an app-level child gets no service name, not even one tend inherited', () => {
    expect(appEnv({ ...src, base: { ...src.base, TEND_SERVICE: 'outer' } })).toEqual({
      PATH: '/bin',
      TEND_APP: 'a',
      TEND_DATA_DIR: '/d',
      TEND_SETTINGS_FILE: '/s',
    });
  });
});
