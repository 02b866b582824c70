/**
 * The control plane of a real tend: the socket (mode, one tend per state folder, stale sockets), the TCP
 * listener's access rules, /healthz, /readyz, /metrics and the event stream.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StatusView } from '../../src/control/types.js';
import { runTend, startTend, stopAllTends } from '../helpers/cli.js';
import { alive, waitFor } from '../helpers/wait.js';
import { http, parsePrometheus } from './http.js';

const dirs: string[] = [];
const others: ChildProcess[] = [];

afterEach(async () => {
  for (const c of others.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await stopAllTends();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function project(manifest: string) {
  const dir = mkdtempSync(join(tmpdir(), 'tend-ctl-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'tend.yaml'), manifest);
  return dir;
}

const SIMPLE = `
services:
  web:
    command: exec sleep 600
  db:
    command: exec sleep 600
`;

async function up(dir: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const t = startTend(['up', ...args], { cwd: dir, env });
  await t.waitForOutput(/app UP|web running/, 20_000);
  const printed = args.includes('--http')
    ? await t.waitForOutput(/metrics on (http:\/\/\S+\/)(?:\?token=([\w-]+))?/)
    : undefined;
  const token = printed?.[2] ?? env.TEND_TOKEN;
  return {
    t,
    url: printed?.[1],
    token,
    auth: { authorization: `Bearer ${token}` },
    socketPath: join(dir, '.tend', 'tend.sock'),
  };
}

describe('the unix socket', () => {
  it('is created with mode 0600 and answers the API', async () => {
    const dir = project(SIMPLE);
    const { socketPath } = await up(dir);
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
    expect(statSync(socketPath).isSocket()).toBe(true);
    const r = await http({ socketPath }, '/api/status');
    expect(r.status).toBe(200);
    expect(
      r
        .json<StatusView>()
        .services.map((s) => s.name)
        .sort(),
    ).toEqual(['db', 'web']);
  });

  it('a second tend up on the same state folder is refused with exit 1 before it starts anything', async () => {
    const dir = project(`
services:
  web:
    command: echo started >> started.txt; exec sleep 600
`);
    const first = await up(dir);
    await waitFor(() => runTend(['status'], { cwd: dir }).stdout.includes('running'));
    const second = runTend(['up'], { cwd: dir });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/another tend \(pid \d+\) is running for this state folder/);
    expect(second.stderr).toMatch(/stop it first/);
    // the first one is untouched, and the service was spawned once only
    expect(alive(first.t.proc.pid!)).toBe(true);
    expect(readFileSync(join(dir, 'started.txt'), 'utf8').trim().split('\n')).toHaveLength(1);
    expect(runTend(['status'], { cwd: dir }).code).toBe(0);
  });

  it('a stale socket left by a dead tend is replaced', async () => {
    const dir = project(SIMPLE);
    mkdirSync(join(dir, '.tend'), { recursive: true });
    const sock = join(dir, '.tend', 'tend.sock');
    // a process that listens on the socket and then dies without cleaning up, like a SIGKILLed tend
    const squatter = spawn(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(sock)}, () => console.log('listening'))`,
    ]);
    others.push(squatter);
    await new Promise<void>((r) => squatter.stdout!.once('data', () => r()));
    squatter.kill('SIGKILL');
    await new Promise((r) => squatter.once('exit', r));
    expect(statSync(sock).isSocket()).toBe(true);

    const { socketPath } = await up(dir);
    expect((await http({ socketPath }, '/api/status')).status).toBe(200);
  });
});

describe('the TCP listener', () => {
  it('serves healthz, readyz, metrics, the API and the dashboard; loopback needs the token too', async () => {
    const dir = project(SIMPLE);
    const { url, auth } = await up(dir, ['--http', '127.0.0.1:0']);
    const t = { url: url! };
    expect((await http(t, '/healthz')).text).toBe('ok\n');
    await waitFor(async () => (await http(t, '/readyz')).status === 200, { what: 'readyz 200' });
    const page = await http(t, '/');
    expect(page.text).toMatch(/<!doctype html>/i);
    // not frameable, and the address with the token is never sent on as a Referer
    expect(page.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect((await http(t, '/api/status')).status).toBe(401);
    expect((await http(t, '/api/status', { headers: auth })).json<StatusView>().app.http).toBe(url);

    expect((await http(t, '/api/services/web/restart', { method: 'POST' })).status).toBe(401);
    const restart = await http(t, '/api/services/web/restart', { method: 'POST', headers: auth });
    expect(restart.status).toBe(200);
    // a value tend cannot read is refused, not taken for something else
    const badWait = await http(t, '/api/services/web/restart?wait=soon', { method: 'POST', headers: auth });
    expect(badWait.status).toBe(400);
    expect(badWait.text).toMatch(/wait must be a number/);
    const badOn = await http(t, '/api/maintenance?on=sideways', { method: 'POST', headers: auth });
    expect(badOn.status).toBe(400);
    expect((await http(t, '/api/status', { headers: auth })).json<StatusView>().app.maintenance).toBe(false);
    // a page of another site cannot drive it, neither by a cross-site POST nor through DNS rebinding
    const cross = await http(t, '/api/services/web/restart', {
      method: 'POST',
      headers: { ...auth, origin: 'http://evil.example' },
    });
    expect(cross.status).toBe(403);
    // a sandboxed frame or a data: page sends `Origin: null`: not the dashboard either
    const opaque = await http(t, '/api/services/web/restart', {
      method: 'POST',
      headers: { ...auth, origin: 'null' },
    });
    expect(opaque.status).toBe(403);
    const rebound = await http(t, '/api/status', {
      headers: { ...auth, host: `evil.example:${new URL(url!).port}` },
    });
    expect(rebound.status).toBe(421);
  });

  it('without TEND_TOKEN makes a token, prints it in the dashboard URL and keeps it 0600 for the CLI', async () => {
    const dir = project(SIMPLE);
    const { url, token, auth } = await up(dir, ['--http', '0.0.0.0:0']);
    expect(token).toMatch(/^[\w-]{40,}$/);
    const file = join(dir, '.tend', 'token');
    expect(readFileSync(file, 'utf8').trim()).toBe(token);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const t = { url: `http://127.0.0.1:${new URL(url!).port}/` };
    expect((await http(t, '/metrics')).status).toBe(200);
    for (const path of [
      '/api/services/web/restart',
      '/api/services/web/stop',
      '/api/reload',
      '/api/maintenance',
    ]) {
      const r = await http(t, path, {
        method: 'POST',
        body: { on: true },
        headers: { authorization: 'Bearer guess' },
      });
      expect(r.status, path).toBe(401);
      expect(r.json<{ error: string }>().error).toMatch(/token/);
    }
    for (const path of ['/api/status', '/api/services/web', '/api/cfg', '/api/logs?service=web', '/api']) {
      expect((await http(t, path)).status, path).toBe(401);
    }
    // nothing happened
    const st = (await http(t, '/api/status', { headers: auth })).json<StatusView>();
    expect(st.services.find((s) => s.name === 'web')?.restarts).toBe(0);
    expect(st.app.maintenance).toBe(false);
    // the CLI over TCP reads the token from the state folder; the socket needs none
    const viaTcp = runTend(['status', '--json'], { cwd: dir, env: { TEND_URL: t.url } });
    expect(viaTcp.code, viaTcp.stderr).toBe(0);
    expect(runTend(['restart', 'web'], { cwd: dir }).code).toBe(0);
    const wrong = runTend(['status'], { cwd: dir, env: { TEND_URL: t.url, TEND_TOKEN: 'guess' } });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/missing or wrong token/);
  });

  it('bound to a non-loopback address with TEND_TOKEN, needs the bearer token', async () => {
    const dir = project(SIMPLE);
    const { url, t: tend } = await up(dir, ['--http', '0.0.0.0:0'], { TEND_TOKEN: 's3cret-token' });
    // a token the user chose is never printed, nor written to the state folder
    expect(tend.output()).not.toMatch(/s3cret-token/);
    expect(existsSync(join(dir, '.tend', 'token'))).toBe(false);
    const t = { url: `http://127.0.0.1:${new URL(url!).port}/` };
    const none = await http(t, '/api/services/web/restart', { method: 'POST' });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/Bearer/);
    const wrong = await http(t, '/api/services/web/restart', {
      method: 'POST',
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.status).toBe(401);
    const right = await http(t, '/api/services/web/restart', {
      method: 'POST',
      headers: { authorization: 'Bearer s3cret-token' },
    });
    expect(right.status).toBe(200);
    expect((await http(t, '/api/logs')).status).toBe(401);
    expect((await http(t, '/api/logs', { headers: { authorization: 'Bearer s3cret-token' } })).status).toBe(
      200,
    );
    // the token never shows up in what the API serves
    for (const path of ['/api/status', '/metrics', '/api/logs?n=1000']) {
      expect((await http(t, path, { headers: { authorization: 'Bearer s3cret-token' } })).text).not.toMatch(
        /s3cret-token/,
      );
    }
  });
});

describe('metrics', () => {
  it('/metrics parses as Prometheus text and counts a restart', async () => {
    const dir = project(SIMPLE);
    const { url } = await up(dir, ['--http', '127.0.0.1:0']);
    const read = async () => parsePrometheus((await http({ url: url! }, '/metrics')).text);
    const value = (
      samples: Awaited<ReturnType<typeof read>>,
      name: string,
      labels: Record<string, string> = {},
    ) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        ?.value;

    let m = await read();
    expect(value(m, 'tend_service_restarts_total', { service: 'web' })).toBe(0);
    expect(value(m, 'tend_service_up', { service: 'web' })).toBe(1);
    expect(value(m, 'tend_service_state', { service: 'web', state: 'running' })).toBe(1);
    expect(value(m, 'tend_service_state', { service: 'web', state: 'failed' })).toBe(0);
    expect(value(m, 'tend_app_state', { state: 'UP' })).toBe(1);
    expect(value(m, 'tend_info', { app: basename(dir) })).toBe(1);
    for (const name of [
      'tend_template_renders_total',
      'tend_kv_watch_errors_total',
      'tend_events_dropped_total',
      'tend_log_lines_dropped_total',
      'tend_service_uptime_seconds',
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(value(m, name), name).toBeDefined();
    }
    const text = (await http({ url: url! }, '/metrics')).text;
    expect(text).toMatch(/# TYPE tend_health_check_duration_seconds histogram/);

    expect(runTend(['restart', 'web'], { cwd: dir }).code).toBe(0);
    m = await read();
    expect(value(m, 'tend_service_restarts_total', { service: 'web' })).toBe(1);
    expect(value(m, 'tend_service_restarts_total', { service: 'db' })).toBe(0);
    expect(value(m, 'tend_service_last_exit_code', { service: 'web' })).toBe(143);
  });

  it('times every readiness and health probe attempt in tend_health_check_duration_seconds', async () => {
    const dir = project(`
services:
  web:
    command: exec sleep 600
    ready: { exec: "sleep 0.2" }
    health: { exec: "true", interval: 200ms }
`);
    const { url } = await up(dir, ['--http', '127.0.0.1:0']);
    const count = async (check: string) =>
      parsePrometheus((await http({ url: url! }, '/metrics')).text).find(
        (s) =>
          s.name === 'tend_health_check_duration_seconds_count' &&
          s.labels.service === 'web' &&
          s.labels.check === check,
      )?.value ?? 0;
    await waitFor(async () => (await count('health')) >= 3, { what: 'three health checks counted' });
    expect(await count('ready')).toBe(1);
    const sum = parsePrometheus((await http({ url: url! }, '/metrics')).text).find(
      (s) => s.name === 'tend_health_check_duration_seconds_sum' && s.labels.check === 'ready',
    )?.value;
    // the ready probe sleeps 0.2 s
    expect(sum).toBeGreaterThanOrEqual(0.18);
  });
});

describe('server-sent events', () => {
  it('streams events with their seq as id, and resumes after Last-Event-ID', async () => {
    const dir = project(SIMPLE);
    const { url, auth } = await up(dir, ['--http', '127.0.0.1:0']);
    const collect = async (
      headers: Record<string, string>,
      until: (ids: number[], text: string) => boolean,
    ) => {
      const ac = new AbortController();
      const res = await fetch(new URL('/api/events', url), {
        headers: { ...auth, ...headers },
        signal: ac.signal,
      });
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
      const reader = res.body!.getReader();
      let text = '';
      const ids = () => [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
      while (!until(ids(), text)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      ac.abort();
      return { ids: ids(), text };
    };
    const live = collect({}, (_, text) => /"service":"web".*"to":"running"/.test(text));
    await new Promise((r) => setTimeout(r, 300));
    expect(runTend(['restart', 'web'], { cwd: dir }).code).toBe(0);
    const first = await live;
    expect(first.ids.length).toBeGreaterThan(0);
    for (let i = 1; i < first.ids.length; i++) expect(first.ids[i]).toBeGreaterThan(first.ids[i - 1]);
    const events = first.text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)));
    expect(events.map((e) => e.to)).toEqual(expect.arrayContaining(['stopping', 'running']));

    // missed events are replayed after the id the client last saw
    const from = first.ids[0];
    const resumed = await collect({ 'last-event-id': String(from) }, (ids) =>
      ids.includes(first.ids.at(-1)!),
    );
    expect(resumed.ids[0]).toBe(from + 1);
  });
});

describe('stream bounds', () => {
  it('100 idle event streams: 8 per client, the rest 429 with Retry-After; healthz and readyz still answer', async () => {
    const dir = project(SIMPLE);
    const { url, auth } = await up(dir, ['--http', '127.0.0.1:0']);
    const { connect } = await import('node:net');
    const port = Number(new URL(url!).port);
    const sockets: import('node:net').Socket[] = [];
    const firstLines: string[] = [];
    try {
      // idle clients: they send a request and never read beyond the status line
      await Promise.all(
        Array.from(
          { length: 100 },
          (_, i) =>
            new Promise<void>((resolve) => {
              const s = connect(port, '127.0.0.1', () =>
                s.write(
                  `GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${auth.authorization}\r\n\r\n`,
                ),
              );
              sockets.push(s);
              let text = '';
              s.on('data', (d) => {
                text += d.toString();
                if (text.includes('\r\n\r\n') && firstLines[i] === undefined) {
                  firstLines[i] = text;
                  resolve();
                }
              });
              s.on('error', () => resolve());
              s.on('close', () => resolve());
            }),
        ),
      );
      const ok = firstLines.filter((t) => t?.startsWith('HTTP/1.1 200'));
      const refused = firstLines.filter((t) => t?.startsWith('HTTP/1.1 429'));
      expect(ok).toHaveLength(8);
      expect(refused).toHaveLength(92);
      expect(refused[0]).toMatch(/retry-after: \d+/i);
      // the probes answer as they always do
      expect((await http({ url: url! }, '/healthz')).status).toBe(200);
      expect([200, 503]).toContain((await http({ url: url! }, '/readyz')).status);
      // a closed stream frees its place
      for (const s of sockets) s.destroy();
      await waitFor(async () => {
        const ac = new AbortController();
        const r = await fetch(new URL('/api/events', url), { headers: auth, signal: ac.signal });
        ac.abort();
        return r.status === 200;
      });
    } finally {
      for (const s of sockets) s.destroy();
    }
  });
});
