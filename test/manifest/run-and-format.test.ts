// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in plain strings is the manifest syntax under test
/** `tend run`'s Plan, and what `tend check` prints. */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { redactSecrets } from '../../src/manifest/format.js';
import {
  formatPlan,
  ManifestError,
  planForCommand,
  planToJSON,
  runStateDir,
} from '../../src/manifest/index.js';
import { load } from './helpers.js';
import { SPEC_EXAMPLE } from './spec-example.js';

describe('planForCommand', () => {
  test('one essential service with the manifest defaults, logs to stdout only', () => {
    const plan = planForCommand({
      argv: ['/usr/bin/gunicorn', 'app:app'],
      cwd: '/srv/app',
      env: { XDG_RUNTIME_DIR: '/run/user/1000' },
    });
    expect(plan.file).toBeUndefined();
    expect(plan.name).toBe('gunicorn');
    expect(plan.dir).toBe('/srv/app');
    expect(plan.stateDir).toBe('/run/user/1000/tend/gunicorn');
    expect(plan.dataDir).toBe('/run/user/1000/tend/gunicorn/data');
    expect(plan.order).toEqual(['gunicorn']);
    expect(plan.disabled).toEqual([]);
    expect(plan.notify).toEqual([]);
    expect(plan.stages).toEqual({});
    expect(plan.services.gunicorn).toEqual({
      name: 'gunicorn',
      isJob: false,
      command: { kind: 'argv', argv: ['/usr/bin/gunicorn', 'app:app'] },
      cwd: '/srv/app',
      env: {},
      envFrom: [],
      after: [],
      requires: [],
      requiresTimeoutMs: 0,
      templates: [],
      restart: {
        policy: 'always',
        backoff: { initialMs: 100, maxMs: 30_000 },
        maxFailures: 5,
        minUptimeMs: 1000,
        windowMs: 10_000,
        cooldownMs: 300_000,
        resetAfterMs: 10_000,
        preventExitCodes: [],
        successExitCodes: [],
      },
      stop: { signal: 'SIGTERM', timeoutMs: 10_000 },
      reloadSignal: 'SIGHUP',
      settingsOnChange: { kind: 'restart' },
      signalGroup: false,
      forwardSignals: [],
      finishTimeoutMs: 30_000,
      logs: {
        format: 'raw',
        timestamps: false,
        maxSizeBytes: 10 * 1024 * 1024,
        keep: 3,
        mode: 0o640,
        stdout: true,
      },
      essential: true,
      listen: [],
    });
  });

  test('name and restart policy; without XDG_RUNTIME_DIR root keeps state in /run/tend; ${} is not interpolated', () => {
    const plan = planForCommand({
      name: 'w',
      argv: ['echo', '${HOME}'],
      restart: 'never',
      cwd: '/x',
      env: {},
    });
    // as root (the tests run as root) /run/tend/<name>; another user gets a folder of its own in the temp folder
    expect(plan.stateDir).toBe(
      process.geteuid?.() === 0 ? '/run/tend/w' : join(tmpdir(), `tend-${process.geteuid?.()}`, 'w'),
    );
    expect(runStateDir('w', {}, 1000)).toBe(join(tmpdir(), 'tend-1000', 'w'));
    expect(runStateDir('w', { XDG_RUNTIME_DIR: '/run/user/1000' }, 1000)).toBe('/run/user/1000/tend/w');
    expect(plan.services.w.restart.policy).toBe('never');
    expect(plan.services.w.command).toEqual({ kind: 'argv', argv: ['echo', '${HOME}'] });
  });

  test('odd program names become valid service names', () => {
    expect(planForCommand({ argv: ['./my app!'], cwd: '/x', env: {} }).order).toEqual(['my-app-']);
  });

  test('usage errors are ManifestErrors', () => {
    expect(() => planForCommand({ argv: [], cwd: '/x' })).toThrow(ManifestError);
    expect(() => planForCommand({ name: 'bad name', argv: ['x'], cwd: '/x' })).toThrow(
      /invalid service name "bad name"/,
    );
  });
});

describe('formatPlan', () => {
  test('the SPEC example', () => {
    const { plan, file } = load(`${SPEC_EXAMPLE}  db:\n    command: [postgres, -D, "./data/my pg"]\n`);
    const dir = plan.dir;
    expect(formatPlan(plan).replaceAll(dir, '<dir>')).toBe(
      [
        `shop (${file.replace(dir, '<dir>')})`,
        '  data       <dir>/data',
        '  state      <dir>/.tend',
        '  kv         file:<dir>/kv',
        '  http       127.0.0.1:7070 (API calls need a token: TEND_TOKEN, else one tend makes at start, prints with the dashboard URL and keeps in <dir>/.tend/token; /healthz, /readyz and /metrics need none)',
        '  settings   defaults <dir>/defaults.json ← $CFG ← kv settings/ (on change restart)',
        '             schema <dir>/settings.schema.json',
        '',
        'stages',
        '  boot       ./bin/boot  (timeout 5m)',
        '  firstboot  ./bin/firstboot  (timeout 5m)',
        '  upgrade    ./bin/upgrade  (timeout 5m)',
        '  warmup     ./bin/warmup  (timeout 5m)',
        '  monitor    ./bin/monitor  (every 30s, timeout 10s)',
        '',
        'notify',
        '  stdout',
        '  webhook http://127.0.0.1:9000/… (timeout 5s, queue 1000)',
        '  exec ./bin/lifecycle (timeout 10s)',
        '  file <dir>/data/events.jsonl (mode 0600 when tend creates it)',
        '  kv lifecycle/{service}',
        '',
        'services, in start order (3)',
        '  1. cleanup  (job, schedule "*/5 * * * *")',
        '     command    ./bin/cleanup',
        '     settings   on change none (a job reads the settings at each run)',
        '     restart    never',
        '     stop       SIGTERM, SIGKILL after 10s',
        '     logs       <dir>/.tend/logs/cleanup.log (raw, mode 0640, rotate at 10MB, keep 3), echoed to stdout',
        '  2. db',
        "     command    postgres -D './data/my pg'",
        '     settings   on change restart',
        '     restart    always, backoff 100ms..30s, failed after 5 runs shorter than 1s in 10s (retried after 5m)',
        '     stop       SIGTERM, SIGKILL after 10s',
        '     logs       <dir>/.tend/logs/db.log (raw, mode 0640, rotate at 10MB, keep 3), echoed to stdout',
        '  3. web',
        '     command    gunicorn app:app -b 127.0.0.1:8080',
        '     env        PORT',
        '     env from   kv config/web',
        '     after      db',
        '     requires   postgres',
        '     template   <dir>/templates/web.conf.tmpl → <dir>/etc/web.conf (on change restart, mode 0640, wait 0s..2s, missing keys wait up to 5m, output with "@@MISSING@@" counts as missing, check: nginx -t -c "$TEND_CHECK_FILE")',
        '     ready      http http://127.0.0.1:8080/ready (every 250ms, timeout 1m)',
        '     health     http http://127.0.0.1:8080/health (every 10s, timeout 2s, 3 failures)',
        '     settings   on change restart',
        '     restart    always, backoff 100ms..30s, failed after 5 runs shorter than 1s in 1m (retried after 5m)',
        '     stop       SIGTERM, SIGKILL after 10s',
        '     register   web port 8080 [http] (ttl 10s)',
        '     finish     ./bin/report-exit (timeout 30s)',
        '     logs       <dir>/logs/web.log (json, mode 0640, rotate at 50MB, keep 5), echoed to stdout',
        '',
      ].join('\n'),
    );
  });

  test('exit codes that mean something are shown with the restart policy', () => {
    const { plan } = load(
      'services:\n  lb:\n    command: x\n    restart: { policy: on-failure, prevent_exit_codes: [3, 4], success_exit_codes: [2] }\n',
    );
    expect(formatPlan(plan)).toMatch(
      /restart {4}on-failure, .*; exit 3, 4: not restarted; exit 2: success\n/,
    );
  });

  test('disabled services are listed after the enabled ones', () => {
    const { plan } = load('services:\n  a:\n    command: x\n  b:\n    command: y\n    enabled: false\n');
    const text = formatPlan(plan);
    expect(text).toContain('services, in start order (1)\n  1. a\n');
    expect(text.endsWith('\ndisabled: b\n')).toBe(true);
  });

  test('planToJSON is the Plan as JSON', () => {
    const { plan } = load('services:\n  a:\n    command: x\n');
    expect(JSON.parse(planToJSON(plan))).toEqual(plan);
  });
});

describe('redactSecrets', () => {
  test('hides URL passwords and secret-named query values, wherever they are in a text', () => {
    expect(redactSecrets('kv etcd://admin:pa55@h1:2379,h2:2379/app/')).toBe(
      'kv etcd://admin:***@h1:2379,h2:2379/app/',
    );
    expect(redactSecrets('curl https://u:p@x.example/a?token=abc&x=1&api_key=k')).toBe(
      'curl https://u:***@x.example/a?token=***&x=1&api_key=***',
    );
    // a user without a password, and plain text, stay
    expect(redactSecrets('consul://agent@127.0.0.1:8500 and a:b@c')).toBe(
      'consul://agent@127.0.0.1:8500 and a:b@c',
    );
  });
});
