/** `tend render`, `tend template` and `tend up` with templates, as real processes of the built CLI. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runTend, startTend, stopAllTends } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { cleanup, lines, project, put, read } from './harness.js';

afterEach(async () => {
  await stopAllTends();
  await cleanup();
});

const manifest = `
services:
  web:
    command: exec sleep 60
    templates:
      - source: web.tmpl
        destination: etc/web.conf
        check: grep -q '^port=[0-9]*$' "$TEND_CHECK_FILE"
  worker:
    command: exec sleep 60
    templates:
      - { source: worker.tmpl, destination: etc/worker.conf, sentinel: "@@MISSING@@" }
`;

describe('tend render', () => {
  it('renders every template and exits 0; a second run finds them unchanged', () => {
    const dir = project({
      'kv/port': '80',
      'kv/queue': 'jobs',
      'web.tmpl': 'port={{ key "port" }}',
      'worker.tmpl': 'queue={{ keyOrDefault "queue" "@@MISSING@@" }}',
      'tend.yaml': manifest,
    });
    let r = runTend(['render', '--once'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('rendered web: etc/web.conf\nrendered worker: etc/worker.conf\n');
    expect(read(dir, 'etc/web.conf')).toBe('port=80');
    r = runTend(['render'], { cwd: dir });
    expect(r.stdout).toBe('unchanged web: etc/web.conf\nunchanged worker: etc/worker.conf\n');
  });

  it('exits 3 naming what is missing (keys and sentinels), writing what is complete', () => {
    const dir = project({
      'kv/port': '80',
      'web.tmpl': 'port={{ key "port" }} host={{ key "host" }}',
      'worker.tmpl': 'queue={{ keyOrDefault "queue" "@@MISSING@@" }}',
      'tend.yaml': manifest,
    });
    const r = runTend(['render', '--once'], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('missing web: etc/web.conf: needs key:host');
    expect(r.stderr).toContain(
      'missing worker: etc/worker.conf: has the sentinel "@@MISSING@@" in its output',
    );
    expect(read(dir, 'etc/web.conf')).toBeUndefined();
    const json = JSON.parse(runTend(['render', '--json'], { cwd: dir }).stdout);
    expect(json.exitCode).toBe(3);
    expect(json.templates[0].missing).toEqual(['key:host']);
  });

  it('--dry-run prints instead of writing; --only narrows the services', () => {
    const dir = project({
      'kv/port': '80',
      'web.tmpl': 'port={{ key "port" }}\n',
      'worker.tmpl': 'queue={{ key "queue" }}',
      'tend.yaml': manifest,
    });
    const r = runTend(['render', '--dry-run', '--only', 'web'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('# web: etc/web.conf (from web.tmpl)\nport=80\n');
    expect(readdirSync(dir)).not.toContain('etc');
  });

  it('a failing check exits 1 and leaves the file as it was', () => {
    const dir = project({
      'kv/port': 'eighty',
      'kv/queue': 'q',
      'etc/web.conf': 'port=80',
      'web.tmpl': 'port={{ key "port" }}',
      'worker.tmpl': 'queue={{ key "queue" }}',
      'tend.yaml': manifest,
    });
    const r = runTend(['render'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/check-failed web: etc\/web.conf: check failed \(exit code 1\)/);
    expect(read(dir, 'etc/web.conf')).toBe('port=80');
    expect(readdirSync(join(dir, 'etc')).sort()).toEqual(['web.conf', 'worker.conf']);
  });
});

describe('tend template', () => {
  it('renders to stdout with . from --data and functions reading ./kv', () => {
    const dir = project({
      'kv/app/name': 'shop',
      'kv/app/hosts/a': '10.0.0.1',
      'kv/app/hosts/b': '10.0.0.2',
      'data.json': '{"port": 8080, "ratio": 1.5}',
      't.tmpl':
        '{{ key "app/name" }}:{{ .port }} {{ .ratio }}{{ range tree "app/hosts" }} {{ .Key }}={{ .Value }}{{ end }}\n',
    });
    const r = runTend(['template', 't.tmpl', '--data', 'data.json'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('shop:8080 1.5 a=10.0.0.1 b=10.0.0.2\n');
  });

  it('--kv and TEND_KV choose the store', () => {
    const dir = project({ 'other/k': 'from-other', 't.tmpl': '{{ key "k" }}' });
    expect(runTend(['template', 't.tmpl', '--kv', 'file:./other'], { cwd: dir }).stdout).toBe('from-other');
    expect(runTend(['template', 't.tmpl'], { cwd: dir, env: { TEND_KV: 'file:./other' } }).stdout).toBe(
      'from-other',
    );
  });

  it('absent keys are an error naming them (exit 3); a bad template is a Go-style error (exit 1)', () => {
    const dir = project({ 'kv/a': '1', 't.tmpl': '{{ key "a" }}{{ key "b/c" }}', 'bad.tmpl': 'x\n{{ if }}' });
    let r = runTend(['template', 't.tmpl'], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^template: t.tmpl: missing key:b\/c \(not in file:/);
    r = runTend(['template', 'bad.tmpl'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('template: bad.tmpl:2: missing value for if\n');
    r = runTend(['template', 'nope.tmpl'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('open nope.tmpl: no such file or directory\n');
  });
});

describe('tend up with templates', () => {
  it('status names the missing key; putting it starts the service; a change restarts it', async () => {
    const dir = project({
      'svc.sh': 'echo "$(cat etc/app.conf)" >> starts.log; exec sleep 60\n',
      'app.tmpl': 'level={{ key "level" }}',
      'tend.yaml': `
services:
  web:
    command: exec sh svc.sh
    templates:
      - { source: app.tmpl, destination: etc/app.conf }
`,
    });
    const t = startTend(['up'], { cwd: dir });
    await t.waitForOutput(/web waiting: waiting for config: etc\/app.conf needs key:level/);
    const status = JSON.parse(runTend(['status', '--json'], { cwd: dir }).stdout);
    const web = status.services.find((s: { name: string }) => s.name === 'web');
    expect(web.state).toBe('waiting');
    expect(web.waitingFor).toEqual(['waiting for config: etc/app.conf needs key:level']);

    put(dir, 'kv/level', 'info');
    await waitFor(() => lines(dir, 'starts.log').length === 1, { what: 'start' });
    put(dir, 'kv/level', 'debug');
    await waitFor(() => lines(dir, 'starts.log').length === 2, { what: 'restart' });
    expect(lines(dir, 'starts.log')).toEqual(['level=info', 'level=debug']);
    await t.waitForOutput(/config rendered .*etc\/app.conf/);
    t.kill('SIGTERM');
    expect(await t.exit()).toBe(0);
  });
});

describe('the environment of a check', () => {
  it('is the service environment, the same under tend render as under tend up', async () => {
    const dir = project({
      'kv/level': 'info',
      'app.tmpl': 'level={{ key "level" }}',
      'tend.yaml': `
name: envcheck
services:
  web:
    command: exec sleep 60
    env: { GREETING: hello }
    templates:
      - source: app.tmpl
        destination: etc/app.conf
        check: echo "$TEND_APP|$TEND_SERVICE|$TEND_DATA_DIR|$GREETING|$TEND_DESTINATION" >> check.log
`,
    });
    const r = runTend(['render'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(lines(dir, 'check.log')).toHaveLength(1);
    put(dir, 'kv/level', 'debug');
    const t = startTend(['up'], { cwd: dir });
    await waitFor(() => lines(dir, 'check.log').length === 2, { what: 'the check under tend up' });
    const [once, up] = lines(dir, 'check.log');
    expect(once).toBe(up);
    expect(once).toMatch(/^envcheck\|web\|\/.+\|hello\|.+etc\/app\.conf$/);
    t.kill('SIGTERM');
  });
});

describe('tend up: templates reading discovery', () => {
  it('{{ service }} renders the instances of discovery and again as they come and go', async () => {
    const dir = project({
      'svc.sh': 'echo "[$(cat etc/up.conf)]" >> starts.log; exec sleep 60\n',
      'up.tmpl': '{{ range service "api" }}{{ .Port }}{{ end }}',
      'tend.yaml': `
services:
  api:
    command: exec sleep 60
    register: { port: 9999, address: 127.0.0.1 }
  web:
    command: exec sh svc.sh
    templates:
      - { source: up.tmpl, destination: etc/up.conf }
`,
    });
    const t = startTend(['up'], { cwd: dir });
    // as consul-template: no instance yet is an empty list, not missing config (web may start before api is up)
    const last = () => lines(dir, 'starts.log').at(-1);
    await waitFor(() => last() === '[9999]', { timeoutMs: 15_000, what: 'web started with api' });
    const n = lines(dir, 'starts.log').length;
    expect(runTend(['stop', 'api'], { cwd: dir }).code).toBe(0);
    await waitFor(() => last() === '[]', { timeoutMs: 15_000, what: 'web restarted without api' });
    expect(lines(dir, 'starts.log')).toHaveLength(n + 1);
    t.kill('SIGTERM');
    expect(await t.exit()).toBe(0);
  });
});
