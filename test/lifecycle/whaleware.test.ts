/**
 * examples/whaleware end to end: the built CLI, real scripts, a real HTTP receiver for the webhook sink.
 * dist/ is built once by test/global-setup.ts.
 */
import { cpSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runTend, startTend, stopAllTends } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { cleanup, tmp } from './harness.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/whaleware', import.meta.url));

interface Received {
  app: string;
  kind: string;
  to?: string;
  reason?: string;
  output?: string;
  stats?: { pid: number; healthy: boolean; memory: number };
}

let server: Server;
let received: Received[] = [];
let webhookUrl = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      try {
        received.push(JSON.parse(body));
      } catch {}
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  webhookUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/lifecycle`;
});
afterAll(() => new Promise((r) => server.close(r)));
afterEach(async () => {
  await stopAllTends();
  await cleanup();
  received = [];
});

async function freePort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

function copyExample(): string {
  const dir = tmp('tend-whaleware-');
  cpSync(EXAMPLE, dir, {
    recursive: true,
    filter: (src) => !/[/\\](data|\.tend|run)$/.test(src),
  });
  return dir;
}

const states = () => received.filter((e) => e.kind === 'app').map((e) => e.to);
const stats = () => received.filter((e) => e.kind === 'stats').map((e) => e.stats);
const lastIs = (state: string) => () => states().at(-1) === state;

async function env(extra: Record<string, string> = {}) {
  return {
    WEBHOOK_URL: webhookUrl,
    CFG: JSON.stringify({ port: await freePort(), memory: 400 }),
    MONITOR_INTERVAL: '300ms',
    ...extra,
  };
}

describe('examples/whaleware', () => {
  it('runs the whaleware life cycle; a failing monitor restarts; SIGTERM stops; the next start skips FIRSTBOOT', async () => {
    const dir = copyExample();
    const first = startTend(['up'], { cwd: dir, env: await env() });
    await waitFor(lastIs('UP'), { what: `UP (output: ${first.output()})`, timeoutMs: 20_000 });
    expect(states()).toEqual(['BOOT', 'FIRSTBOOT', 'UPGRADING', 'WARMUP', 'UP']);
    expect(received[0].app).toBe('whaleware');

    // the monitor's JSON reaches the webhook as stats (pushstats), with CFG's memory over the default 200
    await waitFor(() => stats().length > 0, { what: 'stats' });
    const before = stats()[0];
    expect(before).toMatchObject({ healthy: true, memory: 400 });

    // break the app: the next monitor run fails, the app restarts with a new web process, and is UP again
    const cfgPort = JSON.parse(readFileSync(join(dir, '.tend/settings.json'), 'utf8')).port as number;
    await fetch(`http://127.0.0.1:${cfgPort}/break`);
    await waitFor(() => states().includes('RESTARTING') && lastIs('UP')(), {
      what: 'RESTARTING then UP',
      timeoutMs: 20_000,
    });
    expect(states().slice(5)).toEqual(['RESTARTING', 'UP']);
    const restarting = received.find((e) => e.kind === 'app' && e.to === 'RESTARTING');
    expect(restarting?.reason).toBe('monitor failed: exit code 1');
    expect(restarting?.output).toContain('app reports unhealthy (HTTP 500)');
    await waitFor(() => stats().some((s) => s?.healthy && s.pid !== before?.pid), {
      what: 'stats of the new web',
    });

    first.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    // one restart only: the restarted web is ready (it logged "listening") before the app is UP again, so
    // the next monitor run finds it answering
    expect(states()).toEqual([
      'BOOT',
      'FIRSTBOOT',
      'UPGRADING',
      'WARMUP',
      'UP',
      'RESTARTING',
      'UP',
      'STOPPING',
      'STOPPED',
    ]);
    // the exec sink (whaleware's `lifecycle STATE`) saw the same states
    const logged = readFileSync(join(dir, 'data/lifecycle.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' ')[1]);
    expect(logged).toEqual(states());
    // the finish hook ran for the restart and for the stop (SIGTERM handled by web: exit 0)
    expect(readFileSync(join(dir, 'data/exits.log'), 'utf8').trim().split('\n')).toEqual([
      'web 0 0',
      'web 0 0',
    ]);

    received = [];
    const second = startTend(['up'], { cwd: dir, env: await env() });
    await waitFor(lastIs('UP'), { what: `UP again (output: ${second.output()})`, timeoutMs: 20_000 });
    expect(states()).toEqual(['BOOT', 'UPGRADING', 'WARMUP', 'UP']);
    expect(second.output()).toContain('schema is up to date (2)');

    // SIGHUP: the same restart, by hand
    second.kill('SIGHUP');
    await waitFor(() => states().length >= 6 && lastIs('UP')(), { what: 'UP after SIGHUP' });
    expect(states().slice(4)).toEqual(['RESTARTING', 'UP']);
    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('a failing upgrade gives ERROR with its output, starts no service, and exits 4', async () => {
    const dir = copyExample();
    const tend = startTend(['up'], { cwd: dir, env: await env({ FAIL_UPGRADE: 'disk full' }) });
    expect(await tend.exited).toBe(4);
    expect(states()).toEqual(['BOOT', 'FIRSTBOOT', 'UPGRADING', 'ERROR']);
    const error = received.at(-1);
    expect(error?.reason).toBe('upgrade failed: exit code 1');
    expect(error?.output).toContain('migration failed: disk full');
    expect(tend.output()).toMatch(/^upgrade +\| migration failed: disk full$/m);
    expect(tend.output()).not.toMatch(/web: .*running/);
  });

  it('refuses settings that break the schema, naming the path, with exit 2', async () => {
    const dir = copyExample();
    const r = runTend(['up'], { cwd: dir, env: { WEBHOOK_URL: webhookUrl, CFG: '{"memory":"lots"}' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('settings.memory: must be integer (got "lots") — from $CFG');
    expect(received).toEqual([]);
  });
});
