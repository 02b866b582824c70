// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in plain strings is the manifest syntax under test
/** Manifests that load: defaults, interpolation, --only, dependencies and order. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  type Command,
  loadManifest,
  ManifestError,
  parseManifestText,
  type RestartPlan,
  type ServicePlan,
} from '../../src/manifest/index.js';
import { errorsOf, load, tempDir, warningsOf } from './helpers.js';
import { SPEC_EXAMPLE } from './spec-example.js';

const sh = (script: string): Command => ({ kind: 'shell', script });

describe('the example of SPEC.md §3', () => {
  test('as printed, it names `after: [db]` without defining db, and says only that', () => {
    expect(errorsOf(SPEC_EXAMPLE)).toEqual(['29:13: service "web": "after" names unknown service "db"']);
  });

  test('with db defined, it loads with every default filled in', () => {
    const { plan, warnings, file } = load(`${SPEC_EXAMPLE}  db:\n    command: [postgres, -D, ./data/pg]\n`);
    const dir = dirname(file);
    expect(warnings).toEqual([]);
    const { services, ...top } = plan;
    expect(top).toEqual({
      file,
      dir,
      name: 'shop',
      dataDir: join(dir, 'data'),
      stateDir: join(dir, '.tend'),
      http: '127.0.0.1:7070',
      kv: `file:${join(dir, 'kv')}`,
      settings: {
        defaults: {},
        defaultsFile: join(dir, 'defaults.json'),
        files: [],
        schemaFile: join(dir, 'settings.schema.json'),
        env: 'CFG',
        kvPrefix: 'settings/',
        onChange: { kind: 'restart' },
      },
      stages: {
        boot: { command: sh('./bin/boot'), timeoutMs: 300_000 },
        firstboot: { command: sh('./bin/firstboot'), timeoutMs: 300_000 },
        upgrade: { command: sh('./bin/upgrade'), timeoutMs: 300_000 },
        warmup: { command: sh('./bin/warmup'), timeoutMs: 300_000 },
        monitor: { command: sh('./bin/monitor'), timeoutMs: 10_000, intervalMs: 30_000 },
      },
      notify: [
        { kind: 'stdout' },
        {
          kind: 'webhook',
          url: 'http://127.0.0.1:9000/lifecycle',
          timeoutMs: 5000,
          queue: 1000,
          headers: {},
        },
        { kind: 'exec', command: sh('./bin/lifecycle'), timeoutMs: 10_000 },
        { kind: 'file', path: join(dir, 'data/events.jsonl') },
        { kind: 'kv', key: 'lifecycle/{service}' },
      ],
      disabled: [],
      // web waits for db; cleanup, written before db, is free first
      order: ['cleanup', 'db', 'web'],
    });
    // An exec sink without `events` leaves the choice to the sink: the key is absent, not [].
    expect('events' in plan.notify[2]).toBe(false);
    expect(Object.keys(services)).toEqual(plan.order);

    const restart: RestartPlan = {
      policy: 'always',
      backoff: { initialMs: 100, maxMs: 30_000 },
      maxFailures: 5,
      minUptimeMs: 1000,
      windowMs: 60_000,
      cooldownMs: 300_000,
      resetAfterMs: 10_000,
      preventExitCodes: [],
      successExitCodes: [],
    };
    expect(services.web).toEqual({
      name: 'web',
      isJob: false,
      command: sh('gunicorn app:app -b 127.0.0.1:8080'),
      cwd: dir,
      env: { PORT: '8080' },
      envFrom: [{ prefix: 'config/web' }],
      after: ['db'],
      requires: ['postgres'],
      requiresTimeoutMs: 0,
      templates: [
        {
          source: join(dir, 'templates/web.conf.tmpl'),
          destination: join(dir, 'etc/web.conf'),
          perms: 0o640,
          onChange: { kind: 'restart' },
          wait: { minMs: 0, maxMs: 2000 },
          missing: 'wait',
          missingTimeoutMs: 300_000,
          sentinel: '@@MISSING@@',
          check: 'nginx -t -c "$TEND_CHECK_FILE"',
          leftDelim: '{{',
          rightDelim: '}}',
          errMissingKey: false,
          functions: { allow: [], deny: [] },
        },
      ],
      ready: {
        probe: { kind: 'http', url: 'http://127.0.0.1:8080/ready' },
        intervalMs: 250,
        timeoutMs: 60_000,
      },
      health: {
        probe: { kind: 'http', url: 'http://127.0.0.1:8080/health' },
        intervalMs: 10_000,
        timeoutMs: 2000,
        failures: 3,
        graceMs: 0,
      },
      restart,
      stop: { signal: 'SIGTERM', timeoutMs: 10_000 },
      reloadSignal: 'SIGHUP',
      settingsOnChange: { kind: 'restart' },
      signalGroup: false,
      forwardSignals: [],
      register: { name: 'web', port: 8080, tags: ['http'], meta: {}, ttlMs: 10_000 },
      finish: sh('./bin/report-exit'),
      finishTimeoutMs: 30_000,
      logs: {
        file: join(dir, 'logs/web.log'),
        format: 'json',
        timestamps: true,
        maxSizeBytes: 50 * 1024 * 1024,
        keep: 5,
        mode: 0o640,
        stdout: true,
      },
      essential: false,
      listen: [],
    } satisfies ServicePlan);
    expect(services.cleanup).toEqual({
      name: 'cleanup',
      isJob: true,
      command: sh('./bin/cleanup'),
      cwd: dir,
      env: {},
      envFrom: [],
      after: [],
      requires: [],
      requiresTimeoutMs: 0,
      templates: [],
      restart: { ...restart, policy: 'never', windowMs: 10_000 },
      stop: { signal: 'SIGTERM', timeoutMs: 10_000 },
      reloadSignal: 'SIGHUP',
      settingsOnChange: { kind: 'none' },
      signalGroup: false,
      forwardSignals: [],
      finishTimeoutMs: 30_000,
      logs: {
        file: join(dir, '.tend/logs/cleanup.log'),
        format: 'raw',
        timestamps: false,
        maxSizeBytes: 10 * 1024 * 1024,
        keep: 3,
        mode: 0o640,
        stdout: true,
      },
      essential: false,
      schedule: '*/5 * * * *',
      listen: [],
    } satisfies ServicePlan);
    expect(services.db.command).toEqual({ kind: 'argv', argv: ['postgres', '-D', './data/pg'] });
  });

  test('WEB_ENABLED=false turns web off, and cleanup still loads', () => {
    const { plan } = load(`${SPEC_EXAMPLE}  db:\n    command: x\n`, { env: { WEB_ENABLED: 'false' } });
    expect(plan.order).toEqual(['cleanup', 'db']);
    expect(plan.disabled).toEqual(['web']);
    expect(plan.services.web).toBeUndefined();
  });
});

describe('defaults', () => {
  test('a minimal manifest', () => {
    const { plan, file } = load('services:\n  web:\n    command: ./web\n');
    const dir = dirname(file);
    expect(plan.name).toBe(basename(dir));
    expect(plan.dataDir).toBe(join(dir, 'data'));
    expect(plan.stateDir).toBe(join(dir, '.tend'));
    expect(plan.kv).toBe(`file:${join(dir, 'kv')}`);
    expect(plan.http).toBeUndefined();
    expect(plan.settings).toEqual({ defaults: {}, files: [], env: 'CFG', onChange: { kind: 'restart' } });
    expect(plan.stages).toEqual({});
    expect(plan.notify).toEqual([]);
    expect(plan.services.web.logs).toEqual({
      file: join(dir, '.tend/logs/web.log'),
      format: 'raw',
      timestamps: false,
      maxSizeBytes: 10 * 1024 * 1024,
      keep: 3,
      mode: 0o640,
      stdout: true,
    });
    expect(plan.services.web.ready).toBeUndefined();
    expect('ready' in plan.services.web).toBe(false);
  });

  test('relative dirs resolve against the manifest folder; absolute ones stay', () => {
    const { plan, file } = load(
      'data_dir: /var/lib/app\nstate_dir: run/tend\nservices:\n  web:\n    command: x\n    cwd: app\n    logs: { file: false }\n',
    );
    const dir = dirname(file);
    expect(plan.dataDir).toBe('/var/lib/app');
    expect(plan.stateDir).toBe(join(dir, 'run/tend'));
    expect(plan.services.web.cwd).toBe(join(dir, 'app'));
    expect(plan.services.web.logs.file).toBeUndefined();
  });

  test('parseManifestText places a relative file name against the current directory', () => {
    const { plan } = parseManifestText('services:\n  a:\n    command: x\n', 'sub/tend.yaml', { env: {} });
    expect(plan.file).toBe(join(process.cwd(), 'sub/tend.yaml'));
    expect(plan.dir).toBe(join(process.cwd(), 'sub'));
    expect(plan.name).toBe('sub');
  });
});

describe('shorthands and spellings', () => {
  test('restart as a policy; wait as one duration; stages and monitor as commands', () => {
    const { plan } = load(
      [
        'stages:',
        '  boot: [./boot, --fast]',
        '  monitor: ./check',
        'services:',
        '  web:',
        '    command: x',
        '    restart: on-failure',
        '    templates:',
        '      - { source: a, destination: b, wait: 2s }',
        '      - { source: a, destination: c, wait: { min: 1s } }',
        '      - { source: a, destination: d, wait: { max: 3s } }',
        '',
      ].join('\n'),
    );
    expect(plan.stages).toEqual({
      boot: { command: { kind: 'argv', argv: ['./boot', '--fast'] }, timeoutMs: 300_000 },
      monitor: { command: sh('./check'), intervalMs: 30_000, timeoutMs: 10_000 },
    });
    const web = plan.services.web;
    expect(web.restart.policy).toBe('on-failure');
    expect(web.restart.maxFailures).toBe(5);
    expect(web.templates.map((t) => t.wait)).toEqual([
      { minMs: 2000, maxMs: 8000 },
      { minMs: 1000, maxMs: 4000 },
      { minMs: 0, maxMs: 3000 },
    ]);
  });

  test('perms: quoted, unquoted (YAML would read 0640 as decimal), without the 0, and 0o', () => {
    let i = 0;
    const t = (p: string) => `      - { source: a, destination: out${i++}, perms: ${p} }\n`;
    const { plan } = load(
      `services:\n  web:\n    command: x\n    templates:\n${t('"0640"')}${t('0640')}${t('640')}${t('0o600')}${t('"4755"')}`,
    );
    expect(plan.services.web.templates.map((x) => x.perms)).toEqual([0o640, 0o640, 0o640, 0o600, 0o4755]);
  });

  test('perms defaults to 0640; user and group resolve (names or ids); unknown ones are errors with positions', () => {
    const { plan } = load(
      'services:\n  web:\n    command: x\n    templates:\n' +
        '      - { source: a, destination: one }\n' +
        '      - { source: a, destination: two, user: root, group: 0 }\n' +
        '      - { source: a, destination: three, user: 4242 }\n',
    );
    const [one, two, three] = plan.services.web.templates;
    expect(one.perms).toBe(0o640);
    expect([one.uid, one.gid]).toEqual([undefined, undefined]);
    expect([two.user, two.uid, two.group, two.gid]).toEqual(['root', 0, '0', 0]);
    expect([three.uid, three.gid]).toEqual([4242, undefined]);
    expect(
      errorsOf(
        'services:\n  web:\n    command: x\n    templates:\n' +
          '      - { source: a, destination: b, user: nosuchuserzz, group: "x:y" }\n',
      ),
    ).toEqual([
      '5:38: services.web.templates[0].user: no user "nosuchuserzz" in /etc/passwd',
      '5:58: services.web.templates[0].group: "x:y" is a group name or gid',
    ]);
  });

  test('on_change kinds', () => {
    const t = (o: string) => `      - { source: a, destination: ${o.replace(/\W/g, '')}, on_change: ${o} }\n`;
    const { plan } = load(
      `services:\n  web:\n    command: x\n    templates:\n${t('reload')}${t('none')}${t('{ signal: USR2 }')}${t('{ exec: [nginx, -s, reload] }')}`,
    );
    expect(plan.services.web.templates.map((x) => x.onChange)).toEqual([
      { kind: 'reload' },
      { kind: 'none' },
      { kind: 'signal', signal: 'SIGUSR2' },
      { kind: 'exec', command: { kind: 'argv', argv: ['nginx', '-s', 'reload'] } },
    ]);
  });

  test('signals: short names, any case, normalised', () => {
    const { plan } = load(
      'services:\n  web:\n    command: x\n    stop: { signal: int }\n    reload_signal: USR1\n    signals: [sigusr1, USR2, USR2]\n',
    );
    const web = plan.services.web;
    expect(web.stop.signal).toBe('SIGINT');
    expect(web.reloadSignal).toBe('SIGUSR1');
    expect(web.forwardSignals).toEqual(['SIGUSR1', 'SIGUSR2']);
  });

  test('env values keep the spelling of numbers and booleans; argv items too', () => {
    const { plan } = load(
      'services:\n  web:\n    command: [sleep, 10, 1.50]\n    env: { PORT: 8080, RATIO: 1.50, DEBUG: true, EMPTY: , S: "x" }\n',
    );
    expect(plan.services.web.env).toEqual({ PORT: '8080', RATIO: '1.50', DEBUG: 'true', EMPTY: '', S: 'x' });
    expect(plan.services.web.command).toEqual({ kind: 'argv', argv: ['sleep', '10', '1.50'] });
  });

  test('probes', () => {
    const { plan } = load(
      [
        'services:',
        '  a:',
        '    command: x',
        '    ready: { tcp: ":5432", interval: 1s }',
        '    health: { exec: "pg_isready", grace: 5s, failures: 1 }',
        '  b:',
        '    command: x',
        '    ready: { log: "listening on \\\\d+", timeout: 5s }',
        '    health: { tcp: "[::1]:80" }',
        '',
      ].join('\n'),
    );
    expect(plan.services.a.ready).toEqual({
      probe: { kind: 'tcp', host: '127.0.0.1', port: 5432 },
      intervalMs: 1000,
      timeoutMs: 60_000,
    });
    expect(plan.services.a.health).toEqual({
      probe: { kind: 'exec', command: sh('pg_isready') },
      intervalMs: 10_000,
      timeoutMs: 2000,
      failures: 1,
      graceMs: 5000,
    });
    expect(plan.services.b.ready?.probe).toEqual({ kind: 'log', pattern: 'listening on \\d+' });
    expect(plan.services.b.health?.probe).toEqual({ kind: 'tcp', host: '::1', port: 80 });
  });

  test('register, logs, user, requires_timeout', () => {
    const { plan } = load(
      [
        'services:',
        '  web:',
        '    command: x',
        '    user: 1000',
        '    requires: [pg, pg]',
        '    requires_timeout: 1m30s',
        '    register: { name: shop-web, port: "8080", address: 10.0.0.1, tags: [http, 2], meta: { v: 1 }, ttl: 30s }',
        '    logs: { file: out.log, max_size: 1GiB, keep: 0, stdout: no }',
        '',
      ].join('\n'),
    );
    const web = plan.services.web;
    expect(web.user).toBe('1000');
    expect(web.requires).toEqual(['pg']);
    expect(web.requiresTimeoutMs).toBe(90_000);
    expect(web.register).toEqual({
      name: 'shop-web',
      port: 8080,
      address: '10.0.0.1',
      tags: ['http', '2'],
      meta: { v: '1' },
      ttlMs: 30_000,
    });
    expect(web.logs).toEqual({
      file: join(plan.dir, 'out.log'),
      format: 'raw',
      timestamps: false,
      maxSizeBytes: 1024 ** 3,
      keep: 0,
      mode: 0o640,
      stdout: false,
    });
  });

  test('http as a bare port; kv URLs', () => {
    const a = load('http: 7070\nkv: file:///srv/kv.yaml\nservices:\n  a:\n    command: x\n').plan;
    expect(a.http).toBe('127.0.0.1:7070');
    expect(a.kv).toBe('file:/srv/kv.yaml');
    const b = load('http: ":0"\nkv: etcd://10.0.0.1:2379/app/\nservices:\n  a:\n    command: x\n').plan;
    expect(b.http).toBe(':0');
    expect(b.kv).toBe('etcd://10.0.0.1:2379/app/');
  });

  test('settings: inline defaults, files, env', () => {
    const { plan } = load(
      'settings:\n  defaults: { port: 8080, db: { host: "${DB:-localhost}" } }\n  files: [a.json]\n  env: APP_CFG\nservices:\n  a:\n    command: x\n',
    );
    expect(plan.settings).toEqual({
      defaults: { port: 8080, db: { host: 'localhost' } },
      files: [join(plan.dir, 'a.json')],
      env: 'APP_CFG',
      onChange: { kind: 'restart' },
    });
  });

  test('notify: events filters, stdout as a map, webhook options', () => {
    const { plan } = load(
      [
        'notify:',
        '  - { stdout: true, events: [app, service] }',
        '  - { webhook: "https://h/x", timeout: 1s, queue: 10, headers: { Authorization: "Bearer ${TOKEN}" }, events: [job] }',
        '  - { exec: ./hook, events: [app] }',
        'services:',
        '  a:',
        '    command: x',
        '',
      ].join('\n'),
      { env: { TOKEN: 't0k' } },
    );
    expect(plan.notify).toEqual([
      { kind: 'stdout', events: ['app', 'service'] },
      {
        kind: 'webhook',
        url: 'https://h/x',
        timeoutMs: 1000,
        queue: 10,
        headers: { Authorization: 'Bearer t0k' },
        events: ['job'],
      },
      { kind: 'exec', command: sh('./hook'), timeoutMs: 10_000, events: ['app'] },
    ]);
  });

  test('YAML anchors, merge keys and x- keys (as in compose files)', () => {
    const { plan } = load(
      [
        'x-common: &common',
        '  restart: { policy: on-failure, max_failures: 9 }',
        '  env: { A: "1" }',
        'services:',
        '  a:',
        '    <<: *common',
        '    command: x',
        '    env: { B: "2" }',
        '  b:',
        '    <<: *common',
        '    command: y',
        '    x-note: free text',
        '',
      ].join('\n'),
    );
    expect(plan.services.a.env).toEqual({ B: '2' });
    expect(plan.services.a.restart.maxFailures).toBe(9);
    expect(plan.services.b.env).toEqual({ A: '1' });
    expect(plan.services.b.restart.policy).toBe('on-failure');
  });

  test('jobs: restart never, template changes do nothing, nicknames become 5 fields', () => {
    const { plan } = load(
      'services:\n  nightly:\n    command: x\n    schedule: "@daily"\n    templates: [{ source: a, destination: b }]\n  every-10s:\n    command: y\n    schedule: "*/10 * * * * *"\n    restart: on-failure\n',
    );
    expect(plan.services.nightly).toMatchObject({
      isJob: true,
      schedule: '0 0 * * *',
      restart: { policy: 'never' },
    });
    expect(plan.services.nightly.templates[0].onChange).toEqual({ kind: 'none' });
    expect(plan.services['every-10s']).toMatchObject({
      isJob: true,
      schedule: '*/10 * * * * *',
      restart: { policy: 'on-failure' },
    });
  });
});

describe('interpolation', () => {
  const yaml = [
    'services:',
    '  web:',
    '    command: "serve --port ${PORT} --host ${HOST:-0.0.0.0} --mode ${MODE-prod} --x ${MISSING}"',
    '    env:',
    '      PRICE: "$$5 and $HOME stays"',
    '      ${KEY}: key is not interpolated',
    '      EMPTY_DEFAULT: "${EMPTY:-fallback}"',
    '      EMPTY_DASH: "${EMPTY-fallback}"',
    '      NESTED: "${A:-${B:-deep}}"',
    '      ALT: "${PORT:+set}${NOPE:+unset}"',
    '    register: { port: "${PORT}" }',
    '    enabled: ${WEB_ENABLED:-true}',
    '',
  ].join('\n');

  test('values, defaults, $$, and keys left alone', () => {
    const loaded = load(yaml, { env: { PORT: '8080', MODE: '', EMPTY: '' } });
    const web = loaded.plan.services.web;
    expect(web.command).toEqual(sh('serve --port 8080 --host 0.0.0.0 --mode  --x '));
    expect(web.env).toEqual({
      PRICE: '$5 and $HOME stays',
      '${KEY}': 'key is not interpolated',
      EMPTY_DEFAULT: 'fallback',
      EMPTY_DASH: '',
      NESTED: 'deep',
      ALT: 'set',
    });
    expect(web.register?.port).toBe(8080);
    expect(warningsOf(loaded)).toEqual([
      '3:84: variable "MISSING" is not set; using an empty string (write ${MISSING:-default} to give a default)',
    ]);
  });

  test('MODE unset takes its default; the env passed replaces process.env', () => {
    process.env.TEND_TEST_SHOULD_NOT_LEAK = 'x';
    const { plan } = load(
      'services:\n  web:\n    command: "${MODE-prod} ${TEND_TEST_SHOULD_NOT_LEAK:-clean}"\n',
      { env: {} },
    );
    delete process.env.TEND_TEST_SHOULD_NOT_LEAK;
    expect(plan.services.web.command).toEqual(sh('prod clean'));
  });

  test('enabled from the environment, in its string spellings', () => {
    for (const [v, on] of [
      ['false', false],
      ['0', false],
      ['no', false],
      ['FALSE', false],
      ['true', true],
      ['1', true],
      ['yes', true],
    ] as const) {
      const { plan } = load(yaml, { env: { PORT: '1', WEB_ENABLED: v } });
      expect(plan.order).toEqual(on ? ['web'] : []);
    }
  });

  test('an optional value that interpolates to nothing counts as not set', () => {
    const loaded = load('http: ${TEND_HTTP}\nservices:\n  a:\n    command: x\n    restart: ${POLICY}\n');
    expect(loaded.plan.http).toBeUndefined();
    expect(loaded.plan.services.a.restart.policy).toBe('always');
    expect(warningsOf(loaded).map((w) => w.split(': ')[0])).toEqual(['1:7', '5:14']);
  });

  test('an interpolated value in a multi-line string is located on its own line', () => {
    const loaded = load('services:\n  a:\n    command: |\n      echo start\n      echo ${NOPE}\n');
    expect(loaded.plan.services.a.command).toEqual(sh('echo start\necho \n'));
    expect(warningsOf(loaded)[0]).toMatch(/^5:12: variable "NOPE" is not set/);
  });
});

describe('--only, disabled services and start order', () => {
  const roles = [
    'services:',
    '  db:',
    '    command: db',
    '  cache:',
    '    command: cache',
    '    enabled: false',
    '  web:',
    '    command: web',
    '    after: [db, cache]',
    '  worker:',
    '    command: worker',
    '    after: [db]',
    '',
  ].join('\n');

  test('a disabled dependency is dropped with a warning', () => {
    const loaded = load(roles);
    expect(loaded.plan.order).toEqual(['db', 'web', 'worker']);
    expect(loaded.plan.disabled).toEqual(['cache']);
    expect(loaded.plan.services.web.after).toEqual(['db']);
    expect(warningsOf(loaded)).toEqual([
      '9:17: service "web": "after" names disabled service "cache"; not waiting for it',
    ]);
  });

  test('--only enables just those services and drops dependencies outside them', () => {
    const loaded = load(roles, { only: ['worker'] });
    expect(loaded.plan.order).toEqual(['worker']);
    expect(Object.keys(loaded.plan.services)).toEqual(['worker']);
    expect(loaded.plan.disabled).toEqual(['db', 'cache', 'web']);
    expect(loaded.plan.services.worker.after).toEqual([]);
    expect(warningsOf(loaded)).toEqual([
      '12:13: service "worker": "after" names disabled service "db"; not waiting for it',
    ]);
  });

  test('--only wins over enabled: false, and says so', () => {
    const loaded = load(roles, { only: ['cache', 'web'] });
    expect(loaded.plan.order).toEqual(['cache', 'web']);
    expect(loaded.plan.services.web.after).toEqual(['cache']);
    expect(warningsOf(loaded)).toEqual([
      '6:5: service "cache" has enabled: false but --only names it; it runs',
      '9:13: service "web": "after" names disabled service "db"; not waiting for it',
    ]);
  });

  test('an empty --only list means no filter', () => {
    expect(load(roles, { only: [] }).plan.order).toEqual(['db', 'web', 'worker']);
  });

  test('order is topological; ties keep the manifest order', () => {
    const { plan } = load(
      [
        'services:',
        '  web:',
        '    command: x',
        '    after: [api, cache]',
        '  api:',
        '    command: x',
        '    after: [db]',
        '  cache:',
        '    command: x',
        '  db:',
        '    command: x',
        '  metrics:',
        '    command: x',
        '',
      ].join('\n'),
    );
    expect(plan.order).toEqual(['cache', 'db', 'api', 'web', 'metrics']);
    expect(Object.keys(plan.services)).toEqual(plan.order);
  });
});

test('loadManifest reads real files next to their templates', () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'conf'));
  writeFileSync(
    join(dir, 'conf', 'tend.yml'),
    'services:\n  a:\n    command: x\n    templates: [{ source: t.tmpl, destination: ../out }]\n',
  );
  const { plan } = loadManifest(join(dir, 'conf', 'tend.yml'), { env: {} });
  expect(plan.services.a.templates[0].source).toBe(join(dir, 'conf', 't.tmpl'));
  expect(plan.services.a.templates[0].destination).toBe(join(dir, 'out'));
  expect(plan.name).toBe('conf');
});

test('a Plan is plain data: JSON round-trips it', () => {
  const { plan } = load(`${SPEC_EXAMPLE}  db:\n    command: x\n`);
  expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
});

test('errors are ManifestErrors, never something else', () => {
  for (const text of [
    '{',
    'a: [',
    'services: [1]',
    'services:\n  a: 1\n',
    ':\n',
    '? [a]\n: b\n',
    '*x\n',
    '&a [*a]\n',
  ]) {
    expect(() => parseManifestText(text, 't.yaml', { env: {} })).toThrow(ManifestError);
  }
});

describe('durations that would make tend spin', () => {
  test('interval: 0s on ready, health and monitor, and a register ttl under 1s, are refused with the position', () => {
    const errors = errorsOf(`services:
  web:
    command: sleep 1
    ready: { tcp: 127.0.0.1:80, interval: 0s }
    health: { http: http://127.0.0.1/, interval: 50ms }
    register: { port: 80, ttl: 0s }
stages:
  monitor: { command: "true", interval: 0 }
`);
    expect(errors).toEqual([
      '4:43: services.web.ready.interval: must be at least 100ms, got 0s: a shorter interval makes the check loop spin',
      '5:50: services.web.health.interval: must be at least 100ms, got 50ms: a shorter interval makes the check loop spin',
      '6:32: services.web.register.ttl: must be at least 1s, got 0s: tend refreshes a registration every TTL/3; etcd leases count whole seconds',
      '8:41: stages.monitor.interval: must be at least 100ms, got 0: a shorter interval makes the check loop spin',
    ]);
  });
});

describe('user: resolved against the account database', () => {
  test('name, name:group and numeric ids resolve; HOME comes from /etc/passwd', () => {
    const { plan } = load(`services:
  a: { command: sleep 1, user: nobody }
  b: { command: sleep 1, user: "nobody:nogroup" }
  c: { command: sleep 1, user: "1234:5678" }
`);
    expect(plan.services.a.runAs).toMatchObject({
      name: 'nobody',
      uid: 65534,
      gid: 65534,
      home: '/nonexistent',
    });
    expect(plan.services.b.runAs).toMatchObject({ uid: 65534, gid: 65534 });
    expect(plan.services.c.runAs).toMatchObject({
      name: '1234',
      uid: 1234,
      gid: 5678,
      home: '/',
      groups: [5678],
    });
  });

  test('an unknown user or group is an error with its position and a suggestion', () => {
    expect(
      errorsOf(`services:
  a: { command: sleep 1, user: nobdy }
  b: { command: sleep 1, user: "nobody:nogrup" }
`),
    ).toEqual([
      '2:26: service "a": user: no user "nobdy" in /etc/passwd; did you mean "nobody"?',
      '3:26: service "b": user: no group "nogrup" in /etc/group; did you mean "nogroup"?',
    ]);
  });
});
