/**
 * The render loop inside `tend up`, on the `file` backend (a folder, one file per key), with real services:
 * small shell scripts that record what config they started with.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../helpers/wait.js';
import { cleanup, lines, project, put, read, type Up, upIn } from './harness.js';

afterEach(cleanup);

/**
 * `sh rec.sh CONF [LOG]`: a service that logs "<pid> <config>" when it starts, then sleeps; a HUP is logged as
 * "<pid> hup". (A script file: `$` in the manifest would be interpolation.)
 */
const REC = {
  'rec.sh': `log=\${2:-starts.log}
trap 'echo "$$ hup" >> "$log"' HUP
echo "$$ $(cat "$1")" >> "$log"
while :; do sleep 0.05; done
`,
};
const recorder = (conf: string, log = 'starts.log') => `exec sh rec.sh ${conf} ${log}`;

/** how many times a destination (relative to the project) went live in this run */
const renderedOf = (t: Up, rel: string) =>
  t.config().filter((e) => e.action === 'rendered' && e.destination === join(t.dir, rel)).length;

describe('render loop (file backend)', () => {
  it('renders before the service starts, re-renders on a key change and restarts the service once', async () => {
    const dir = project({
      ...REC,
      'kv/db/host': 'db1',
      'kv/db/port': '5432',
      'app.conf.tmpl': 'host={{ key "db/host" }} port={{ key "db/port" | trimSpace }}',
      'tend.yaml': `
services:
  web:
    command: ${recorder('etc/app.conf')}
    templates:
      - source: app.conf.tmpl
        destination: etc/app.conf
        perms: "0600"
`,
    });
    const t = await upIn(dir);
    const renders = async () => t.rt.metrics.templateRenders.value();
    const before = 0;
    await waitFor(() => lines(dir, 'starts.log').length === 1, { what: 'first start' });
    expect(lines(dir, 'starts.log')[0]).toMatch(/^\d+ host=db1 port=5432$/);
    expect(statSync(join(dir, 'etc/app.conf')).mode & 0o777).toBe(0o600);

    put(dir, 'kv/db/host', 'db2');
    await waitFor(() => lines(dir, 'starts.log').length === 2, { what: 'restart' });
    expect(lines(dir, 'starts.log')[1]).toMatch(/^\d+ host=db2 port=5432$/);
    expect(read(dir, 'etc/app.conf')).toBe('host=db2 port=5432');
    expect(t.service('web').restarts).toBe(1);
    expect((await renders()) - before).toBe(2);
    expect(
      t
        .serviceEvents('web')
        .some((e) => e.to === 'stopping' && /config changed: etc\/app.conf/.test(e.reason ?? '')),
    ).toBe(true);

    // a new value that renders to the same bytes: the render compares, writes nothing, restarts nothing
    const seen = t.config().length;
    const written = statSync(join(dir, 'etc/app.conf')).mtimeMs;
    put(dir, 'kv/db/port', ' 5432 ');
    await waitFor(
      () =>
        t
          .config()
          .slice(seen)
          .some((e) => e.action === 'unchanged' && /app\.conf$/.test(e.destination ?? '')),
      {
        what: 'the unchanged event',
      },
    );
    expect(
      t
        .config()
        .slice(seen)
        .map((e) => e.action),
    ).toEqual(['unchanged']);
    expect(statSync(join(dir, 'etc/app.conf')).mtimeMs).toBe(written);
    expect(t.service('web').restarts).toBe(1);
    expect((await renders()) - before).toBe(2);
  });
});

describe('on_change', () => {
  const manifest = (onChange: string) => `
services:
  web:
    command: ${recorder('etc/app.conf')}
    reload_signal: SIGHUP
    templates:
      - source: app.conf.tmpl
        destination: etc/app.conf
        on_change: ${onChange}
`;
  const files = (onChange: string) => ({
    ...REC,
    'kv/level': 'info',
    'app.conf.tmpl': 'level={{ key "level" }}',
    'tend.yaml': manifest(onChange),
  });

  it('reload sends reload_signal instead of restarting', async () => {
    const dir = project(files('reload'));
    const t = await upIn(dir);
    await waitFor(() => lines(dir, 'starts.log').length === 1);
    const pid = t.service('web').pid;
    put(dir, 'kv/level', 'debug');
    await waitFor(() => lines(dir, 'starts.log').some((l) => l.endsWith(' hup')), { what: 'HUP' });
    expect(read(dir, 'etc/app.conf')).toBe('level=debug');
    expect(t.service('web').pid).toBe(pid);
    expect(t.service('web').restarts).toBe(0);
    expect(t.output()).toMatch(/web: config changed \(etc\/app.conf\); sent SIGHUP/);
  });

  it('{ signal: X } sends X', async () => {
    const dir = project({
      ...files('{ signal: SIGUSR1 }'),
      'rec.sh': `trap 'echo "$$ usr1" >> starts.log' USR1\necho "$$ start" >> starts.log\nwhile :; do sleep 0.05; done\n`,
    });
    const t = await upIn(dir);
    await waitFor(() => lines(dir, 'starts.log').length === 1);
    put(dir, 'kv/level', 'debug');
    await waitFor(() => lines(dir, 'starts.log').some((l) => l.endsWith(' usr1')), { what: 'USR1' });
    expect(t.service('web').restarts).toBe(0);
  });

  it('none only rewrites the file', async () => {
    const dir = project(files('none'));
    const t = await upIn(dir);
    await waitFor(() => lines(dir, 'starts.log').length === 1);
    put(dir, 'kv/level', 'debug');
    // the action of a batch is taken right after the render that completes it
    await waitFor(() => renderedOf(t, 'etc/app.conf') === 2, { what: 'the rendered event' });
    expect(read(dir, 'etc/app.conf')).toBe('level=debug');
    expect(t.serviceEvents('web').filter((e) => e.to === 'stopping')).toEqual([]);
    expect(lines(dir, 'starts.log')).toHaveLength(1);
    expect(t.service('web').restarts).toBe(0);
  });

  it('{ exec: CMD } runs the command with the service environment', async () => {
    const dir = project(files('{ exec: "echo changed-$TEND_SERVICE >> exec.log" }'));
    const t = await upIn(dir);
    await waitFor(() => lines(dir, 'starts.log').length === 1);
    expect(lines(dir, 'exec.log')).toEqual([]);
    put(dir, 'kv/level', 'debug');
    await waitFor(() => lines(dir, 'exec.log').length === 1, { what: 'exec' });
    expect(lines(dir, 'exec.log')).toEqual(['changed-web']);
    expect(t.service('web').restarts).toBe(0);
  });

  it('several templates of one service changing together cause one restart', async () => {
    const dir = project({
      ...REC,
      'kv/a': '1',
      'kv/b': '1',
      'a.tmpl': 'a={{ key "a" }}',
      'b.tmpl': 'b={{ key "b" }}',
      'tend.yaml': `
services:
  web:
    command: ${recorder('etc/a.conf')}
    templates:
      - { source: a.tmpl, destination: etc/a.conf }
      - { source: b.tmpl, destination: etc/b.conf, wait: { min: 200ms, max: 1s } }
`,
    });
    const t = await upIn(dir);
    await waitFor(() => lines(dir, 'starts.log').length === 1);
    put(dir, 'kv/a', '2');
    put(dir, 'kv/b', '2');
    await waitFor(() => read(dir, 'etc/b.conf') === 'b=2', { what: 'b rendered' });
    await waitFor(() => renderedOf(t, 'etc/a.conf') === 2 && renderedOf(t, 'etc/b.conf') === 2, {
      what: 'both rendered',
    });
    await waitFor(() => t.service('web').state === 'running' && lines(dir, 'starts.log').length === 2);
    expect(lines(dir, 'starts.log')).toHaveLength(2);
    expect(t.service('web').restarts).toBe(1);
    const stopping = t.serviceEvents('web').filter((e) => e.to === 'stopping');
    expect(stopping).toHaveLength(1);
    expect(stopping[0].reason).toMatch(/etc\/a.conf, etc\/b.conf|etc\/b.conf, etc\/a.conf/);
  });

  it('waits for quiescence: a burst of changes renders once, with the last value', async () => {
    const dir = project({
      ...REC,
      'kv/n': '0',
      'n.tmpl': 'n={{ key "n" }}',
      'tend.yaml': `
services:
  web:
    command: ${recorder('etc/n.conf')}
    templates:
      - { source: n.tmpl, destination: etc/n.conf, wait: { min: 400ms, max: 5s } }
`,
    });
    const t = await upIn(dir);
    await waitFor(() => lines(dir, 'starts.log').length === 1);
    const rendered = () => t.config().filter((e) => e.action === 'rendered').length;
    const before = rendered();
    for (let i = 1; i <= 5; i++) {
      put(dir, 'kv/n', String(i));
      await sleep(120);
    }
    await waitFor(() => lines(dir, 'starts.log').length === 2, { what: 'restart' });
    expect(lines(dir, 'starts.log')[1]).toMatch(/ n=5$/);
    expect(rendered() - before).toBe(1);
  });
});

describe('check', () => {
  it('a failing check keeps the last good file, reports it, and leaves the service running', async () => {
    const dir = project({
      ...REC,
      'kv/port': '80',
      'app.tmpl': 'port={{ key "port" }}',
      'tend.yaml': `
services:
  web:
    command: ${recorder('etc/app.conf')}
    templates:
      - source: app.tmpl
        destination: etc/app.conf
        check: grep -Eq '^port=[0-9]+$' "$TEND_CHECK_FILE" || { echo "bad port in $(cat $TEND_CHECK_FILE)"; exit 1; }
`,
    });
    const t = await upIn(dir);
    await waitFor(() => lines(dir, 'starts.log').length === 1);
    put(dir, 'kv/port', 'eighty');
    await waitFor(() => t.config().some((e) => e.action === 'check-failed'), { what: 'check-failed event' });
    const ev = t.config().find((e) => e.action === 'check-failed');
    // the check's output may quote the file (secrets and all): it is in the service's log, not the event
    expect(ev?.reason).toMatch(/check failed \(exit code 1\); its output is in the log of web/);
    expect(ev?.reason).not.toMatch(/eighty/);
    expect(
      t.rt.stack
        .log('web')
        ?.tail()
        .map((l) => l.text),
    ).toContain(`check of ${join(dir, 'etc/app.conf')}: bad port in port=eighty`);
    expect(read(dir, 'etc/app.conf')).toBe('port=80');
    expect(t.service('web').restarts).toBe(0);
    expect(t.service('web').state).toBe('running');
    // no temporary file left behind
    expect(readdirSync(join(dir, 'etc'))).toEqual(['app.conf']);

    put(dir, 'kv/port', '8080');
    await waitFor(() => lines(dir, 'starts.log').length === 2, { what: 'restart with the good value' });
    expect(read(dir, 'etc/app.conf')).toBe('port=8080');
  });

  it('a failing first check holds the service in waiting with the reason', async () => {
    const dir = project({
      ...REC,
      'kv/port': 'eighty',
      'app.tmpl': 'port={{ key "port" }}',
      'tend.yaml': `
services:
  web:
    command: ${recorder('etc/app.conf')}
    templates:
      - { source: app.tmpl, destination: etc/app.conf, check: "grep -Eq '^port=[0-9]+$' \\"$TEND_CHECK_FILE\\"" }
`,
    });
    const t = await upIn(dir);
    await waitFor(
      () => t.service('web').state === 'waiting' && /check failed/.test(t.service('web').reason ?? ''),
    );
    expect(read(dir, 'etc/app.conf')).toBeUndefined();
    put(dir, 'kv/port', '80');
    await waitFor(() => lines(dir, 'starts.log').length === 1, { what: 'start' });
  });
});

describe('missing config', () => {
  it('missing: wait holds the service in waiting naming the keys; putting them starts it', async () => {
    const dir = project({
      ...REC,
      'kv/db/host': 'db1',
      'app.tmpl': '{{ key "db/host" }}:{{ key "db/port" }} {{ keyOrDefault "db/opt" "x" }}',
      'tend.yaml': `
services:
  web:
    command: ${recorder('etc/app.conf')}
    templates:
      - { source: app.tmpl, destination: etc/app.conf }
`,
    });
    const t = await upIn(dir);
    await waitFor(
      () => t.service('web').state === 'waiting' && /db\/port/.test(t.service('web').reason ?? ''),
    );
    expect(t.service('web').reason).toBe('waiting for config: etc/app.conf needs key:db/port');
    expect(t.rt.stack.gates('web').map((g) => g.id)).toContain('config');
    const missing = t.config().find((e) => e.action === 'missing');
    expect(missing?.missing).toEqual(['key:db/port']);
    expect(missing?.service).toBe('web');
    expect(read(dir, 'etc/app.conf')).toBeUndefined();

    put(dir, 'kv/db/port', '5432');
    await waitFor(() => lines(dir, 'starts.log').length === 1, { what: 'start' });
    expect(lines(dir, 'starts.log')[0]).toMatch(/ db1:5432 x$/);
  });

  it('missing_timeout turns the wait into failed; the config arriving later starts it', async () => {
    const dir = project({
      ...REC,
      'app.tmpl': '{{ key "db/host" }}',
      'tend.yaml': `
services:
  web:
    command: ${recorder('etc/app.conf')}
    templates:
      - { source: app.tmpl, destination: etc/app.conf, missing_timeout: 500ms }
`,
    });
    const t = await upIn(dir);
    await waitFor(() => t.service('web').state === 'waiting');
    await waitFor(() => t.service('web').state === 'failed', { what: 'failed' });
    expect(t.service('web').reason).toMatch(
      /config still incomplete after 500ms: etc\/app.conf needs key:db\/host/,
    );
    put(dir, 'kv/db/host', 'db1');
    await waitFor(() => lines(dir, 'starts.log').length === 1, { what: 'start' });
    expect(t.service('web').state).toBe('running');
  });

  it('missing: fail fails at once', async () => {
    const dir = project({
      ...REC,
      'app.tmpl': '{{ key "db/host" }}',
      'tend.yaml': `
services:
  web:
    command: ${recorder('etc/app.conf')}
    templates:
      - { source: app.tmpl, destination: etc/app.conf, missing: fail }
  other:
    command: exec sleep 60
`,
    });
    const t = await upIn(dir);
    await waitFor(() => t.service('web').state === 'failed', { what: 'failed' });
    expect(t.service('web').reason).toBe('config incomplete: etc/app.conf needs key:db/host');
    expect(t.service('other').state).toBe('running');
  });

  it('an essential service whose config is missing ends tend with exit code 3', async () => {
    const dir = project({
      ...REC,
      'app.tmpl': '{{ key "db/host" }}',
      'tend.yaml': `
services:
  web:
    command: ${recorder('etc/app.conf')}
    essential: true
    templates:
      - { source: app.tmpl, destination: etc/app.conf, missing: fail }
`,
    });
    const t = await upIn(dir);
    expect(await t.rt.done).toBe(3);
  });

  it('a sentinel in the output counts as missing (seed 000)', async () => {
    const dir = project({
      ...REC,
      'app.tmpl': 'dsn={{ keyOrDefault "db/dsn" "@@MISSING@@" }}',
      'tend.yaml': `
services:
  web:
    command: ${recorder('etc/app.conf')}
    templates:
      - { source: app.tmpl, destination: etc/app.conf, sentinel: "@@MISSING@@" }
`,
    });
    const t = await upIn(dir);
    await waitFor(
      () => t.service('web').state === 'waiting' && /sentinel/.test(t.service('web').reason ?? ''),
    );
    expect(t.service('web').reason).toBe(
      'waiting for config: etc/app.conf has the sentinel "@@MISSING@@" in its output',
    );
    expect(read(dir, 'etc/app.conf')).toBeUndefined();
    put(dir, 'kv/db/dsn', 'pg://db');
    await waitFor(() => lines(dir, 'starts.log').length === 1);
    expect(read(dir, 'etc/app.conf')).toBe('dsn=pg://db');
  });

  it('missing: empty renders absent keys as empty', async () => {
    const dir = project({
      ...REC,
      'app.tmpl': 'a=[{{ key "a" }}] n={{ len (ls "list") }}',
      'tend.yaml': `
services:
  web:
    command: ${recorder('etc/app.conf')}
    templates:
      - { source: app.tmpl, destination: etc/app.conf, missing: empty }
`,
    });
    await upIn(dir);
    await waitFor(() => lines(dir, 'starts.log').length === 1);
    expect(read(dir, 'etc/app.conf')).toBe('a=[] n=0');
  });

  it('an execution error holds the service with the error; fixing the value it read starts it', async () => {
    const dir = project({
      ...REC,
      'kv/cfg': '{not json',
      'app.tmpl': '{{ with parseJSON (key "cfg") }}port={{ .port }}{{ end }}',
      'tend.yaml': `
services:
  web:
    command: ${recorder('etc/app.conf')}
    templates:
      - { source: app.tmpl, destination: etc/app.conf }
`,
    });
    const t = await upIn(dir);
    await waitFor(
      () => t.service('web').state === 'waiting' && /parseJSON/.test(t.service('web').reason ?? ''),
    );
    expect(t.config().find((e) => e.action === 'template-error')?.reason).toMatch(
      /^template error in app.tmpl:1:/,
    );
    put(dir, 'kv/cfg', '{"port": 80}');
    await waitFor(() => lines(dir, 'starts.log').length === 1, { what: 'start' });
    expect(read(dir, 'etc/app.conf')).toBe('port=80');
  });

  it('a template that does not parse fails its service with the Go-style error', async () => {
    const dir = project({
      ...REC,
      'app.tmpl': 'a={{ key "a" }',
      'tend.yaml': `
services:
  web:
    command: ${recorder('etc/app.conf')}
    templates:
      - { source: app.tmpl, destination: etc/app.conf }
`,
    });
    const t = await upIn(dir);
    await waitFor(() => t.service('web').state === 'failed');
    expect(t.service('web').reason).toMatch(/^template error in app.tmpl:1: /);
  });
});

describe('env_from', () => {
  it('keys under the prefix become variables; a change restarts the service with the new environment', async () => {
    const dir = project({
      'kv/config/web/db/host': 'db1',
      'kv/config/web/log-level': 'info',
      'kv/config/web2/other': 'no',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, not a template
      'env.sh': 'echo "$DB_HOST $LOG_LEVEL ${OTHER:-unset} $PORT" >> starts.log; exec sleep 60\n',
      'tend.yaml': `
services:
  web:
    command: exec sh env.sh
    env: { PORT: "8080", DB_HOST: overridden }
    env_from: [{ prefix: config/web }]
`,
    });
    const t = await upIn(dir);
    await waitFor(() => lines(dir, 'starts.log').length === 1);
    expect(lines(dir, 'starts.log')).toEqual(['db1 info unset 8080']);
    put(dir, 'kv/config/web/log-level', 'debug');
    await waitFor(() => lines(dir, 'starts.log').length === 2, { what: 'restart' });
    expect(lines(dir, 'starts.log')[1]).toBe('db1 debug unset 8080');
    expect(t.service('web').restarts).toBe(1);
  });
});

describe('settings overlay', () => {
  it('keys under kv_prefix reach .Settings and TEND_SETTINGS_FILE; a change re-renders what reads them', async () => {
    const dir = project({
      ...REC,
      'kv/settings/db/port': '6543',
      'schema.json': JSON.stringify({
        type: 'object',
        properties: { db: { type: 'object', properties: { port: { type: 'integer' } } } },
      }),
      'app.tmpl': 'port={{ .Settings.db.port }} app={{ .App }} svc={{ .Service }}',
      'tend.yaml': `
name: shop
settings:
  defaults: { db: { port: 5432 } }
  schema: ./schema.json
  kv_prefix: settings/
services:
  web:
    command: ${recorder('etc/app.conf')}
    templates:
      - { source: app.tmpl, destination: etc/app.conf }
  plain:
    command: cat "$TEND_SETTINGS_FILE" > seen.json; exec sleep 60
`,
    });
    const t = await upIn(dir);
    await waitFor(() => lines(dir, 'starts.log').length === 1);
    expect(lines(dir, 'starts.log')[0]).toMatch(/ port=6543 app=shop svc=web$/);
    await waitFor(() => read(dir, 'seen.json') !== undefined && read(dir, 'seen.json') !== '');
    expect(JSON.parse(read(dir, 'seen.json') ?? '{}')).toEqual({ db: { port: 6543 } });
    expect(t.rt.settings()).toEqual({ db: { port: 6543 } });

    put(dir, 'kv/settings/db/port', '7000');
    await waitFor(() => lines(dir, 'starts.log').length === 2, { what: 'restart' });
    expect(lines(dir, 'starts.log')[1]).toMatch(/ port=7000 /);
    expect(t.config().some((e) => e.action === 'settings')).toBe(true);
    // settings.on_change defaults to restart: a service that read TEND_SETTINGS_FILE at start reads it again
    await waitFor(() => t.service('plain').restarts === 1, { what: 'plain restarted' });
    await waitFor(() => JSON.parse(read(dir, 'seen.json') || '{}').db?.port === 7000, {
      what: 'new settings',
    });
    // once each: the template's restart and the settings' restart of web are one action
    await sleep(300);
    expect(lines(dir, 'starts.log')).toHaveLength(2);
    expect(t.service('plain').restarts).toBe(1);
    expect(t.service('web').restarts).toBe(1);
  });

  const SETTINGS_YAML = (extra: string, plainExtra = '') => `
settings:
  defaults: { n: 1 }
  kv_prefix: settings/
${extra}
services:
  web:
    command: ${recorder('etc/app.conf')}
    templates:
      - { source: app.tmpl, destination: etc/app.conf }
  plain:
    command: exec sh srec.sh plain.log
${plainExtra}
  hup:
    command: exec sh srec.sh hup.log
    on_settings_change: reload
  nightly:
    command: echo ran >> nightly.log
    schedule: '0 3 * * *'
`;
  const SREC = {
    ...REC,
    'app.tmpl': 'n={{ .Settings.n }}',
    // logs "<pid> <settings>" at start and "<pid> hup" on SIGHUP
    'srec.sh': `trap 'echo "$$ hup" >> "$1"' HUP
echo "$$ $(tr -d ' \\n' < "$TEND_SETTINGS_FILE")" >> "$1"
while :; do sleep 0.05; done
`,
    'kv/settings/n': '2',
  };

  it('settings.on_change: none leaves services alone; a template reading .Settings still acts', async () => {
    const dir = project({ ...SREC, 'tend.yaml': SETTINGS_YAML('  on_change: none') });
    const t = await upIn(dir);
    await waitFor(() => lines(dir, 'plain.log').length === 1 && lines(dir, 'starts.log').length === 1);
    expect(lines(dir, 'plain.log')[0]).toMatch(/"n":"2"/);
    put(dir, 'kv/settings/n', '3');
    await waitFor(() => lines(dir, 'starts.log').length === 2, { what: 'web restarted by its template' });
    expect(lines(dir, 'starts.log')[1]).toMatch(/ n=3$/);
    // the per-service choice wins over settings.on_change
    await waitFor(() => lines(dir, 'hup.log').some((l) => / hup$/.test(l)), { what: 'hup reloaded' });
    expect(t.service('plain').restarts).toBe(0);
    expect(t.service('hup').restarts).toBe(0);
    expect(lines(dir, 'plain.log')).toHaveLength(1);
  });

  it('on_settings_change: none on one service; the others restart once; a job is left alone', async () => {
    const dir = project({
      ...SREC,
      'tend.yaml': SETTINGS_YAML('', '    on_settings_change: none'),
    });
    const t = await upIn(dir);
    await waitFor(() => lines(dir, 'hup.log').length === 1 && lines(dir, 'starts.log').length === 1);
    put(dir, 'kv/settings/n', '4');
    await waitFor(() => lines(dir, 'starts.log').length === 2, { what: 'web restarted' });
    await waitFor(() => lines(dir, 'hup.log').some((l) => / hup$/.test(l)), { what: 'hup reloaded' });
    await sleep(300);
    expect(lines(dir, 'starts.log')).toHaveLength(2);
    expect(t.service('web').restarts).toBe(1);
    expect(t.service('plain').restarts).toBe(0);
    expect(t.service('nightly').state).not.toBe('running');
    expect(read(dir, 'nightly.log')).toBeUndefined();
  });
});

describe('jobs', () => {
  it('a job is never restarted by a config change; its file is rewritten', async () => {
    const dir = project({
      ...REC,
      'kv/x': '1',
      'job.tmpl': 'x={{ key "x" }}',
      'tend.yaml': `
services:
  cron-config:
    schedule: "0 0 1 1 *"
    command: cat etc/job.conf >> job.log
    templates:
      - { source: job.tmpl, destination: etc/job.conf }
  web:
    command: ${recorder('etc/job.conf')}
`,
    });
    const t = await upIn(dir);
    await waitFor(() => read(dir, 'etc/job.conf') === 'x=1');
    put(dir, 'kv/x', '2');
    await waitFor(() => renderedOf(t, 'etc/job.conf') === 2, { what: 'the rendered event' });
    expect(read(dir, 'etc/job.conf')).toBe('x=2');
    expect(t.serviceEvents('cron-config').filter((e) => /config changed/.test(e.reason ?? ''))).toEqual([]);
    expect(t.service('cron-config').restarts).toBe(0);
    expect(lines(dir, 'job.log')).toEqual([]);
  });
});

describe('reload and SIGHUP', () => {
  it('a service added by a reload waits for its templates before it starts', async () => {
    const dir = project({
      ...REC,
      'kv/x': '1',
      'x.tmpl': 'x={{ key "x" }}',
      'tend.yaml': `
services:
  web:
    command: exec sleep 60
`,
    });
    const t = await upIn(dir);
    await waitFor(() => t.service('web').state === 'running');
    put(
      dir,
      'tend.yaml',
      `
services:
  web:
    command: exec sleep 60
  api:
    command: ${recorder('etc/x.conf')}
    templates:
      - { source: x.tmpl, destination: etc/x.conf }
`,
    );
    const { reload } = await import('../../src/app/reload.js');
    const result = await reload(t.rt, { argv: [] });
    expect(result.added).toEqual(['api']);
    await waitFor(() => lines(dir, 'starts.log').length === 1, { what: 'api started' });
    expect(lines(dir, 'starts.log')[0]).toMatch(/ x=1$/);
    expect(t.serviceEvents('api').map((e) => e.to)[0]).toBe('waiting');
    put(dir, 'kv/x', '2');
    await waitFor(() => lines(dir, 'starts.log').length === 2, { what: 'api restarted' });
  });

  it('SIGHUP re-reads template sources while the services are down', async () => {
    const dir = project({
      ...REC,
      'kv/x': '1',
      'x.tmpl': 'x={{ key "x" }}',
      'tend.yaml': `
services:
  web:
    command: ${recorder('etc/x.conf')}
    templates:
      - { source: x.tmpl, destination: etc/x.conf }
`,
    });
    const t = await upIn(dir);
    await waitFor(() => lines(dir, 'starts.log').length === 1 && t.rt.appState() === 'UP');
    put(dir, 'x.tmpl', 'value {{ key "x" }}');
    await t.rt.hangup('test');
    await waitFor(() => lines(dir, 'starts.log').length === 2, { what: 'restarted by SIGHUP' });
    expect(lines(dir, 'starts.log')[1]).toMatch(/ value 1$/);
    // rendered while web was down: its on_change has nothing to restart, web starts once on the new file
    expect(renderedOf(t, 'etc/x.conf')).toBe(2);
    await waitFor(() => t.rt.appState() === 'UP', { what: 'UP again' });
    expect(t.serviceEvents('web').filter((e) => /config changed/.test(e.reason ?? ''))).toEqual([]);
    expect(lines(dir, 'starts.log')).toHaveLength(2);
  });
});
