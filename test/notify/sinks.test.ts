import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBus, type TendEvent } from '../../src/events/index.js';
import type { NotifyPlan } from '../../src/manifest/types.js';
import { createNotifier, type NotifierOptions } from '../../src/notify/index.js';
import { sleep, textSink, waitFor } from './helpers.js';

let dir: string;
const cleanups: Array<() => Promise<unknown>> = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tend-notify-'));
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

function setup(sinks: NotifyPlan[], over: Partial<NotifierOptions> = {}) {
  const bus = createBus();
  const stdout = textSink();
  const stderr = textSink();
  const n = createNotifier(sinks, { bus, app: 'shop', cwd: dir, stdout, stderr, ...over });
  cleanups.push(() => n.close(500));
  return { bus, n, stdout, stderr };
}

const full = (e: TendEvent) => ({ app: 'shop', host: hostname(), ...e });

describe('stdout sink', () => {
  it('prints one readable line per event', async () => {
    const { bus, n, stdout } = setup([{ kind: 'stdout' }]);
    bus.publish({ kind: 'app', from: null, to: 'BOOT' });
    bus.publish({ kind: 'app', from: 'WARMUP', to: 'UP' });
    bus.publish({ kind: 'service', service: 'web', from: 'starting', to: 'running', pid: 123, restarts: 0 });
    bus.publish({
      kind: 'service',
      service: 'web',
      from: 'running',
      to: 'exited',
      pid: 123,
      exitCode: 1,
      restarts: 2,
      reason: 'crashed\nwith a traceback',
    });
    bus.publish({ kind: 'config', service: 'web', action: 'missing', missing: ['db/host', 'db/port'] });
    bus.publish({ kind: 'job', service: 'cleanup', run: 'finished', exitCode: 0, durationMs: 1234 });
    bus.publish({ kind: 'health', service: 'web', check: 'health', ok: false, output: 'HTTP 500' });
    bus.publish({ kind: 'finish', service: 'web', ok: true, exitCode: 0 });
    bus.publish({ kind: 'stats', stats: { queries: 10, freeMb: 300 } });
    bus.publish({ kind: 'maintenance', on: true, reason: 'maintenance on' });
    bus.publish({ kind: 'maintenance', on: false, reason: 'deploy done' });
    await waitFor(() => n.stats()[0].sent === 11);
    expect(stdout.text().split('\n')).toEqual([
      '[tend] app: BOOT',
      '[tend] app: WARMUP → UP',
      '[tend] web: starting → running (pid 123)',
      '[tend] web: running → exited (exit 1, restarts 2): crashed with a traceback',
      '[tend] web: config missing (missing: db/host, db/port)',
      '[tend] cleanup: job finished (exit 0, 1.2s)',
      '[tend] web: health check failed: HTTP 500',
      '[tend] web: finish ok (exit 0)',
      '[tend] stats: queries=10 freeMb=300',
      '[tend] app: maintenance on',
      '[tend] app: maintenance off: deploy done',
      '',
    ]);
  });

  it('honours the events filter', async () => {
    const { bus, n, stdout } = setup([{ kind: 'stdout', events: ['service'] }]);
    bus.publish({ kind: 'app', from: null, to: 'BOOT' });
    bus.publish({ kind: 'service', service: 'db', from: null, to: 'starting', restarts: 0 });
    bus.publish({ kind: 'stats', stats: {} });
    await n.close(5000);
    expect(stdout.text()).toBe('[tend] db: starting\n');
    expect(n.stats()[0]).toMatchObject({ sent: 1, dropped: 0 });
  });
});

describe('file sink', () => {
  it('appends JSON lines, creating the folder', async () => {
    const path = join(dir, 'data', 'nested', 'events.jsonl');
    const { bus, n } = setup([{ kind: 'file', path }]);
    const events = [
      bus.publish({ kind: 'app', from: null, to: 'BOOT' }),
      bus.publish({ kind: 'service', service: 'web', from: null, to: 'starting', restarts: 0 }),
      bus.publish({ kind: 'app', from: 'BOOT', to: 'UP' }),
    ];
    await n.close(5000);
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l))).toEqual(events.map(full));
    expect(n.stats()[0]).toMatchObject({ sink: `file ${path}`, sent: 3 });
  });

  it('resolves a relative path against cwd and batches many events', async () => {
    const { bus, n } = setup([{ kind: 'file', path: 'events.jsonl' }]);
    for (let i = 0; i < 2000; i++) bus.publish({ kind: 'stats', stats: { i } });
    await n.close(10_000);
    const lines = (await readFile(join(dir, 'events.jsonl'), 'utf8')).trim().split('\n');
    // Default queue is 1000: the oldest half was dropped while the first write was in flight, and counted.
    const s = n.stats()[0];
    expect(lines.length).toBe(s.sent);
    expect(s.sent + s.dropped).toBe(2000);
    expect(JSON.parse(lines[lines.length - 1]).stats).toEqual({ i: 1999 });
  });

  it('counts a write that cannot happen as failed and reports it once', async () => {
    const blocker = join(dir, 'not-a-folder');
    await writeFile(blocker, '');
    const { bus, n, stderr } = setup([{ kind: 'file', path: join(blocker, 'events.jsonl') }]);
    bus.publish({ kind: 'app', from: null, to: 'BOOT' });
    await sleep(50);
    bus.publish({ kind: 'app', from: null, to: 'UP' });
    await waitFor(() => n.stats()[0].failed === 2);
    expect(stderr.text().trim().split('\n')).toHaveLength(1);
    expect(stderr.text()).toContain('cannot append to');
  });
});

describe('exec sink', () => {
  async function script(name: string, body: string) {
    const path = join(dir, name);
    await writeFile(path, `#!/bin/sh\n${body}\n`);
    await chmod(path, 0o755);
    return path;
  }

  it('runs the script with the state as $1 and the event JSON on stdin; app events only by default', async () => {
    const out = join(dir, 'out');
    const lifecycle = await script(
      'lifecycle',
      `printf '%s|%s|%s|%s|' "$1" "$TEND_EVENT_KIND" "\${TEND_SERVICE:-none}" "$#" >> "$OUT"; cat >> "$OUT"`,
    );
    const { bus, n } = setup(
      [{ kind: 'exec', command: { kind: 'shell', script: lifecycle }, timeoutMs: 5000 }],
      {
        env: { ...process.env, OUT: out },
      },
    );
    const boot = bus.publish({ kind: 'app', from: null, to: 'BOOT' });
    bus.publish({ kind: 'service', service: 'web', from: null, to: 'starting', restarts: 0 });
    const up = bus.publish({ kind: 'app', from: 'BOOT', to: 'UP' });
    await waitFor(() => n.stats()[0].sent === 2);
    const lines = (await readFile(out, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(2);
    const parse = (l: string) => {
      const [state, kind, service, argc, ...json] = l.split('|');
      return { state, kind, service, argc, event: JSON.parse(json.join('|')) };
    };
    expect(parse(lines[0])).toEqual({
      state: 'BOOT',
      kind: 'app',
      service: 'none',
      argc: '1',
      event: full(boot),
    });
    expect(parse(lines[1])).toEqual({
      state: 'UP',
      kind: 'app',
      service: 'none',
      argc: '1',
      event: full(up),
    });
  });

  it('passes state and service for other kinds, with argv commands and inline scripts', async () => {
    const out = join(dir, 'out');
    const { bus, n } = setup(
      [
        {
          kind: 'exec',
          command: { kind: 'argv', argv: ['/bin/sh', '-c', 'echo "argv $1 $TEND_SERVICE" >> "$OUT"', 'sh'] },
          timeoutMs: 5000,
          events: ['service'],
        },
        {
          kind: 'exec',
          command: { kind: 'shell', script: 'echo "inline $1 $TEND_STATE" >> "$OUT.2"' },
          timeoutMs: 5000,
          events: ['health'],
        },
      ],
      { env: { ...process.env, OUT: out } },
    );
    bus.publish({ kind: 'service', service: 'web', from: null, to: 'ready', restarts: 0 });
    bus.publish({ kind: 'health', service: 'web', check: 'health', ok: true });
    await waitFor(() => n.stats()[0].sent === 1 && n.stats()[1].sent === 1);
    expect(await readFile(out, 'utf8')).toBe('argv ready web\n');
    expect(await readFile(`${out}.2`, 'utf8')).toBe('inline health health\n');
  });

  it('kills a script that hangs after the timeout, with what it started, and runs the next one', async () => {
    const out = join(dir, 'out');
    const pidFile = join(dir, 'sleep.pid');
    const lifecycle = await script(
      'lifecycle',
      `if [ "$1" = BOOT ]; then sleep 60 & echo $! > "${pidFile}"; wait; fi\necho "$1" >> "${out}"`,
    );
    const { bus, n, stderr } = setup([
      { kind: 'exec', command: { kind: 'shell', script: lifecycle }, timeoutMs: 300 },
    ]);
    const t0 = Date.now();
    bus.publish({ kind: 'app', from: null, to: 'BOOT' });
    bus.publish({ kind: 'app', from: 'BOOT', to: 'UP' });
    await waitFor(() => n.stats()[0].sent === 1 && n.stats()[0].failed === 1);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(await readFile(out, 'utf8')).toBe('UP\n');
    expect(stderr.text()).toContain('killed after 300ms timeout');

    const pid = Number(readFileSync(pidFile, 'utf8'));
    const alive = () => {
      const stat = `/proc/${pid}/stat`;
      if (!existsSync(stat)) return false;
      // A zombie waiting for whoever reaps orphans here is dead for our purpose.
      return !/^\d+ \(.*\) Z/.test(readFileSync(stat, 'utf8'));
    };
    await waitFor(() => !alive(), 10_000, 'the sleep started by the script to die');
  });

  it('counts a failing script as failed and echoes a successful one to stdout', async () => {
    const { bus, n, stdout, stderr } = setup([
      {
        kind: 'exec',
        command: {
          kind: 'shell',
          script: 'if [ "$1" = UP ]; then echo "lifecycle: $1"; else echo oops >&2; exit 3; fi',
        },
        timeoutMs: 5000,
      },
    ]);
    bus.publish({ kind: 'app', from: null, to: 'BOOT' });
    bus.publish({ kind: 'app', from: 'BOOT', to: 'UP' });
    await waitFor(() => n.stats()[0].sent === 1 && n.stats()[0].failed === 1);
    expect(stdout.text()).toBe('lifecycle: UP\n');
    expect(stderr.text()).toContain('exited with code 3: oops');
  });

  it('a command that does not exist is a failure, not a crash', async () => {
    const { bus, n } = setup([
      { kind: 'exec', command: { kind: 'argv', argv: [join(dir, 'missing')] }, timeoutMs: 5000 },
    ]);
    bus.publish({ kind: 'app', from: null, to: 'BOOT' });
    await waitFor(() => n.stats()[0].failed === 1);
    expect(n.stats()[0].lastError).toMatch(/cannot run: .*ENOENT/);
  });
});

describe('kv sink', () => {
  it('puts the event JSON at the expanded key', async () => {
    const puts: Array<[string, string]> = [];
    const kvPut = async (key: string, value: string) => {
      puts.push([key, value]);
    };
    const { bus, n } = setup([{ kind: 'kv', key: 'lifecycle/{app}/{service}' }], { kvPut });
    const app = bus.publish({ kind: 'app', from: null, to: 'UP' });
    const web = bus.publish({ kind: 'service', service: 'web', from: 'running', to: 'ready', restarts: 0 });
    await waitFor(() => n.stats()[0].sent === 2);
    expect(puts.map(([k, v]) => [k, JSON.parse(v)])).toEqual([
      ['lifecycle/shop/shop', full(app)],
      ['lifecycle/shop/web', full(web)],
    ]);
  });

  it('retries a failed put, keeping the order', async () => {
    const puts: string[] = [];
    let calls = 0;
    const kvPut = async (key: string) => {
      if (calls++ === 0) throw new Error('etcd unavailable');
      puts.push(key);
    };
    const { bus, n } = setup([{ kind: 'kv', key: 'state/{service}' }], { kvPut });
    bus.publish({ kind: 'service', service: 'a', from: null, to: 'ready', restarts: 0 });
    bus.publish({ kind: 'service', service: 'b', from: null, to: 'ready', restarts: 0 });
    await waitFor(() => n.stats()[0].sent === 2);
    expect(puts).toEqual(['state/a', 'state/b']);
  });

  it('without a KV store, counts events as failed and warns once', async () => {
    const { bus, n, stderr } = setup([{ kind: 'kv', key: 'lifecycle/{service}' }]);
    for (let i = 0; i < 5; i++) bus.publish({ kind: 'app', from: null, to: 'UP' });
    await waitFor(() => n.stats()[0].failed === 5);
    expect(stderr.text().trim().split('\n')).toHaveLength(1);
    expect(stderr.text()).toContain('no KV store');
  });
});

describe('several sinks', () => {
  it('a slow sink does not hold back a fast one', async () => {
    const out = join(dir, 'events.jsonl');
    const { bus, n } = setup([
      {
        kind: 'exec',
        command: { kind: 'shell', script: 'sleep 5; true' },
        timeoutMs: 10_000,
        events: ['app'],
      },
      { kind: 'file', path: out },
    ]);
    bus.publish({ kind: 'app', from: null, to: 'BOOT' });
    bus.publish({ kind: 'app', from: 'BOOT', to: 'UP' });
    await waitFor(() => n.stats()[1].sent === 2, 4000);
    expect(n.stats()[0]).toMatchObject({ sent: 0, queued: 2 });
    const c0 = Date.now();
    await n.close(200);
    expect(Date.now() - c0).toBeLessThan(4000);
    expect(n.stats()[0]).toMatchObject({ dropped: 2, queued: 0 });
  });
});
