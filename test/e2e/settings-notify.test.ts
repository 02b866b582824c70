/**
 * Issue 14, two rows, with a real `tend up`:
 * - a settings change under `settings.kv_prefix` (file KV store) restarts the services that read
 *   TEND_SETTINGS_FILE once (settings.on_change: restart, the default), and none with `on_change: none`;
 * - notify sinks' counters (sent, failed, dropped, queued, last error) in `tend status`, `/api/status` and
 *   `/metrics`, never with a webhook URL's userinfo or query.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StatusView } from '../../src/control/types.js';
import { http } from '../control/http.js';
import { startTend, stopAllTends } from '../helpers/cli.js';
import { sleep, waitFor } from '../helpers/wait.js';

const dirs: string[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await stopAllTends();
  for (const s of servers.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function project(files: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'tend-e2e-'));
  dirs.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

const lines = (dir: string, rel: string) => {
  try {
    return readFileSync(join(dir, rel), 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

const status = async (dir: string) =>
  (await http({ socketPath: join(dir, '.tend', 'tend.sock') }, '/api/status')).json<StatusView>();

describe('settings.on_change (tend up, file KV store)', () => {
  const files = (onChange: string) => ({
    'kv/app/greeting': 'hello',
    // logs "<pid> <settings on one line>" at each start, then sleeps (`$` in the manifest would be interpolated)
    'reader.sh': `echo "$$ $(tr -d ' \\n' < "$TEND_SETTINGS_FILE")" >> reads.log\nexec sleep 600\n`,
    'tend.yaml': `
settings:
  defaults: { greeting: hi }
  kv_prefix: app/
${onChange}
services:
  reader:
    command: exec sh reader.sh
`,
  });

  it('restarts a service that reads TEND_SETTINGS_FILE once, and it reads the new value', async () => {
    const dir = project(files(''));
    const t = startTend(['up'], { cwd: dir });
    await t.waitForOutput(/app UP/, 20_000);
    await waitFor(() => lines(dir, 'reads.log').length === 1);
    expect(lines(dir, 'reads.log')[0]).toMatch(/"greeting":"hello"/);

    writeFileSync(join(dir, 'kv/app/greeting'), 'bonjour');
    await waitFor(() => lines(dir, 'reads.log').length === 2, {
      what: 'reader restarted',
      timeoutMs: 10_000,
    });
    expect(lines(dir, 'reads.log')[1]).toMatch(/"greeting":"bonjour"/);
    await t.waitForOutput(/reader stopping: config changed: settings under app\//);
    await sleep(500);
    expect(lines(dir, 'reads.log')).toHaveLength(2);
    expect((await status(dir)).services.find((s) => s.name === 'reader')?.restarts).toBe(1);
  });

  it('with settings.on_change: none, rewrites the file and restarts nothing', async () => {
    const dir = project(files('  on_change: none'));
    const t = startTend(['up'], { cwd: dir });
    await t.waitForOutput(/app UP/, 20_000);
    await waitFor(() => lines(dir, 'reads.log').length === 1);

    writeFileSync(join(dir, 'kv/app/greeting'), 'bonjour');
    await waitFor(() => /"bonjour"/.test(readFileSync(join(dir, '.tend', 'settings.json'), 'utf8')), {
      what: 'settings file rewritten',
      timeoutMs: 10_000,
    });
    await sleep(500);
    expect(lines(dir, 'reads.log')).toHaveLength(1);
    expect((await status(dir)).services.find((s) => s.name === 'reader')?.restarts).toBe(0);
    expect(t.output()).not.toMatch(/reader stopping/);
  });
});

describe('notify sink counters', () => {
  it('a webhook to a dead port and one answered 400 show their counts in status, /api/status and /metrics', async () => {
    // a port nobody listens on: bound, then closed
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    // a receiver that refuses every event: nothing to retry, each counts as failed
    const refusing = createServer((_req, res) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('bad event');
    });
    servers.push(refusing);
    await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', r));
    const livePort = (refusing.address() as AddressInfo).port;

    const dir = project({
      'tend.yaml': `
notify:
  - webhook: http://alice:s3cr3t@127.0.0.1:${deadPort}/hook?token=t0k3n
  - webhook: http://127.0.0.1:${livePort}/refuse?key=k3y
services:
  web:
    command: exec sleep 600
`,
    });
    const t = startTend(['up'], { cwd: dir });
    await t.waitForOutput(/app UP/, 20_000);

    const secret = /alice|s3cr3t|t0k3n|k3y|token=|key=/;
    await waitFor(
      async () => {
        const n = (await status(dir)).notify ?? [];
        // every start-up event handled by the refusing sink (each one failed), some held by the dead one
        return (
          n.length === 2 &&
          n[0].queued > 0 &&
          n[0].lastError !== undefined &&
          n[1].failed > 0 &&
          n[1].queued === 0
        );
      },
      { what: 'counts', timeoutMs: 15_000, intervalMs: 200 },
    );
    const st = await status(dir);
    expect(st.notify?.map((s) => [s.index, s.kind, s.sink])).toEqual([
      [0, 'webhook', `webhook http://127.0.0.1:${deadPort}/…`],
      [1, 'webhook', `webhook http://127.0.0.1:${livePort}/…`],
    ]);
    expect(st.notify?.[0]).toMatchObject({ sent: 0, failed: 0 });
    expect(st.notify?.[0].lastError).toMatch(/refused|ECONNREFUSED/i);
    expect(st.notify?.[1]).toMatchObject({ sent: 0, queued: 0 });
    expect(st.notify?.[1].lastError).toMatch(/HTTP 400/);
    expect(JSON.stringify(st)).not.toMatch(secret);

    // not spawnSync: the refusing receiver lives in this process and must keep answering meanwhile
    const cli = startTend(['status'], { cwd: dir });
    expect(await cli.exit()).toBe(0);
    const human = { stdout: cli.output() };
    expect(human.stdout).toMatch(/NOTIFY +SENT +FAILED +DROPPED +QUEUED +LAST ERROR/);
    const deadRow = human.stdout.split('\n').find((l) => l.includes(`:${deadPort}/…`));
    expect(deadRow).toMatch(/ 0 +0 +0 +[1-9]\d* +.*refused/i);
    const refusedRow = human.stdout.split('\n').find((l) => l.includes(`:${livePort}/…`));
    expect(refusedRow).toMatch(/ 0 +[1-9]\d* +0 +\d+ +HTTP 400/);
    expect(human.stdout).not.toMatch(secret);

    const metrics = (await http({ socketPath: join(dir, '.tend', 'tend.sock') }, '/metrics')).text;
    expect(metrics).toMatch(/^tend_notify_queued\{sink="0",kind="webhook"\} [1-9]\d*$/m);
    expect(metrics).toMatch(
      /^tend_notify_events_total\{sink="1",kind="webhook",outcome="failed"\} [1-9]\d*$/m,
    );
    expect(metrics).toMatch(/^tend_notify_events_total\{sink="0",kind="webhook",outcome="sent"\} 0$/m);
    expect(metrics).not.toMatch(secret);
  });
});
