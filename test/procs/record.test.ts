import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createPidRecord,
  findMarked,
  isAlive,
  killLeftovers,
  markerEnv,
  newRunId,
  processInfo,
  RECORD_FILE,
} from '../../src/procs/index.js';
import { processJanitor, tempDir, waitFor } from './helpers.js';

const linux = process.platform === 'linux';

describe.skipIf(!linux)('pid record and leftovers', () => {
  const janitor = processJanitor();
  const dirs: string[] = [];
  const runIds: string[] = [];
  const dir = () => {
    const d = tempDir();
    dirs.push(d);
    return d;
  };
  const run = () => {
    const id = newRunId();
    runIds.push(id);
    return id;
  };
  afterEach(() => {
    for (const pid of findMarked((m) => runIds.includes(m.runId))) janitor.track(pid);
    janitor.cleanup();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const readRecord = (d: string) => JSON.parse(readFileSync(join(d, RECORD_FILE), 'utf8'));

  it('writes off the spawn path, debounced, atomically; flush and clear', async () => {
    const d = dir();
    const runId = run();
    const record = createPidRecord(d, runId, { debounceMs: 30 });
    const child = janitor.spawn('sleep', ['300']);
    record.add({ pid: child.pid!, service: 'web' });
    // Nothing written synchronously: the caller never waits for the disk.
    expect(existsSync(join(d, RECORD_FILE))).toBe(false);
    await waitFor(() => existsSync(join(d, RECORD_FILE)), 5000, 'debounced write');
    expect(readRecord(d)).toMatchObject({
      version: 1,
      runId,
      tendPid: process.pid,
      entries: [
        {
          pid: child.pid,
          pgid: child.pid,
          service: 'web',
          runId,
          startTime: processInfo(child.pid!)!.startTime,
        },
      ],
    });
    record.add({ pid: 424242, pgid: 424242, service: 'db', startTime: 1 });
    record.remove(child.pid!);
    await record.flush();
    expect(readRecord(d).entries.map((e: { pid: number }) => e.pid)).toEqual([424242]);
    expect(record.entries().map((e) => e.service)).toEqual(['db']);
    await record.clear();
    expect(existsSync(join(d, RECORD_FILE))).toBe(false);
    // A service started right after a clear is recorded again.
    void record.clear();
    record.add({ pid: 4343, service: 'late', startTime: 2 });
    await record.flush();
    expect(readRecord(d).entries.map((e: { pid: number }) => e.pid)).toEqual([4343]);
    await record.clear();
  });

  it('reports a write failure instead of throwing', async () => {
    const d = dir();
    const notADir = join(d, 'file');
    writeFileSync(notADir, '');
    const errors: Error[] = [];
    const record = createPidRecord(notADir, run(), { onError: (e) => errors.push(e) });
    record.add({ pid: 1234, service: 'x', startTime: 5 });
    await record.flush();
    expect(errors.length).toBe(1);
  });

  it('after a "crash", terminates what the record names, its group and its escaped daemons', async () => {
    const d = dir();
    const runId = run();
    const env = (service: string) => ({ ...process.env, ...markerEnv(runId, service) });
    // A service's group: the leader and a child in the same group.
    const web = janitor.spawn('sh', ['-c', 'sleep 300 & wait'], { env: env('web') });
    // A daemon that left its group: not in the record, only the marker tells.
    const daemonOut = janitor.spawn('sh', ['-c', 'setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $!'], {
      env: env('worker'),
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const daemon = Number(
      await new Promise<string>((resolve) => {
        let s = '';
        daemonOut.stdout!.on('data', (x) => {
          s += x;
        });
        daemonOut.stdout!.on('end', () => resolve(s));
      }),
    );
    janitor.track(daemon);
    // Ignores SIGTERM (inherited across exec): only SIGKILL ends it.
    const stubborn = janitor.spawn('sh', ['-c', 'trap "" TERM; exec sleep 300'], { env: env('stubborn') });
    const webChild = await waitFor(
      () => findMarked((m) => m.runId === runId && m.service === 'web').find((p) => p !== web.pid),
      5000,
      'web child',
    );
    await waitFor(() => processInfo(stubborn.pid!)?.comm === 'sleep', 5000, 'exec');

    let record: ReturnType<typeof createPidRecord> | undefined = createPidRecord(d, runId);
    record.add({ pid: web.pid!, service: 'web' });
    record.add({ pid: stubborn.pid!, service: 'stubborn' });
    await record.flush();
    // The crash: tend vanishes, its record object with it; the file stays.
    record = undefined;

    const logs: string[] = [];
    const t0 = Date.now();
    const outcomes = await killLeftovers(d, { timeoutMs: 1000, log: (m) => logs.push(m) });
    expect(Date.now() - t0).toBeLessThan(5000);
    const byPid = new Map(outcomes.map((o) => [o.pid, o]));
    expect(byPid.get(web.pid!)).toEqual({ pid: web.pid, service: 'web', outcome: 'terminated' });
    expect(byPid.get(webChild)).toEqual({ pid: webChild, service: 'web', outcome: 'terminated' });
    expect(byPid.get(daemon)).toEqual({ pid: daemon, service: 'worker', outcome: 'terminated' });
    expect(byPid.get(stubborn.pid!)).toEqual({ pid: stubborn.pid, service: 'stubborn', outcome: 'killed' });
    for (const pid of [web.pid!, webChild, daemon, stubborn.pid!]) expect(isAlive(pid)).toBe(false);
    expect(existsSync(join(d, RECORD_FILE))).toBe(false);
    expect(logs.join('\n')).toMatch(/SIGKILL/);
  });

  it('leaves alone a recorded pid that now belongs to another process', async () => {
    const d = dir();
    const stranger = janitor.spawn('sleep', ['300']);
    const real = processInfo(stranger.pid!)!.startTime;
    // What the record says about "our" process, which exited; its pid was then given to the stranger.
    writeFileSync(
      join(d, RECORD_FILE),
      JSON.stringify({
        version: 1,
        runId: 'old-run',
        tendPid: 1,
        entries: [
          { pid: stranger.pid, pgid: stranger.pid, service: 'web', startTime: real - 100, runId: 'old-run' },
          { pid: 999_999_999, pgid: 999_999_999, service: 'db', startTime: 1, runId: 'old-run' },
        ],
      }),
    );
    const outcomes = await killLeftovers(d, { timeoutMs: 500 });
    expect(outcomes).toEqual([
      { pid: stranger.pid, service: 'web', outcome: 'gone' },
      { pid: 999_999_999, service: 'db', outcome: 'gone' },
    ]);
    expect(isAlive(stranger.pid!)).toBe(true);
    expect(existsSync(join(d, RECORD_FILE))).toBe(false);
  });

  it('copes with no record and with a corrupt one', async () => {
    const d = dir();
    expect(await killLeftovers(d, { timeoutMs: 100 })).toEqual([]);
    writeFileSync(join(d, RECORD_FILE), '{ not json');
    const logs: string[] = [];
    expect(await killLeftovers(d, { timeoutMs: 100, log: (m) => logs.push(m) })).toEqual([]);
    expect(logs.length).toBe(1);
    expect(existsSync(join(d, RECORD_FILE))).toBe(false);
  });
});
