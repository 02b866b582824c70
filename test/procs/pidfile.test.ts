import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  acquirePidFile,
  findMarked,
  isAlive,
  killLeftovers,
  newRunId,
  PID_FILE,
} from '../../src/procs/index.js';
import { buildFixtures, processJanitor, tempDir, waitFor } from './helpers.js';

const linux = process.platform === 'linux';

describe.skipIf(!linux)('pid file', () => {
  let build: ReturnType<typeof buildFixtures>;
  const janitor = processJanitor();
  const dirs: string[] = [];
  const runIds: string[] = [];
  const dir = () => {
    const d = tempDir();
    dirs.push(d);
    return d;
  };
  beforeAll(() => {
    build = buildFixtures();
  });
  afterAll(() => build?.cleanup());
  afterEach(() => {
    for (const pid of findMarked((m) => runIds.includes(m.runId))) janitor.track(pid);
    janitor.cleanup();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** Starts the tend stand-in and waits for its JSON line. */
  async function tendLike(stateDir: string, mode: 'lock' | 'nolock') {
    const runId = newRunId();
    runIds.push(runId);
    const child: ChildProcess = janitor.spawn(
      process.execPath,
      [build.script('tend-like.js'), stateDir, runId, mode],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      child.on('exit', (code) => reject(new Error(`tend-like exited with ${code}: ${out}`)));
    });
    return {
      child,
      runId,
      ...(JSON.parse(line) as {
        ok: boolean;
        pid?: number;
        holder?: number;
        services?: Record<string, number>;
      }),
    };
  }

  for (const mode of ['lock', 'nolock'] as const) {
    describe(mode === 'lock' ? 'with flock' : 'without flock (pid check)', () => {
      const opts = { lock: mode === 'lock' };

      it('refuses while a live tend holds it, with that pid; takes over once it was SIGKILLed', async () => {
        const d = dir();
        const first = await tendLike(d, mode);
        expect(first.ok).toBe(true);
        expect(readFileSync(join(d, PID_FILE), 'utf8').trim()).toBe(String(first.pid));

        const denied = acquirePidFile(d, opts);
        expect(denied).toMatchObject({ ok: false, pid: first.pid });
        const second = await tendLike(d, mode);
        expect(second).toMatchObject({ ok: false, holder: first.pid });

        first.child.kill('SIGKILL');
        await waitFor(() => !isAlive(first.pid!), 5000, 'first tend to die');
        const claim = acquirePidFile(d, opts);
        expect(claim).toMatchObject({ ok: true });
        expect(readFileSync(join(d, PID_FILE), 'utf8').trim()).toBe(String(process.pid));
        // Same process again: still held.
        expect(acquirePidFile(d, opts)).toMatchObject({ ok: false, pid: process.pid });
        if (claim.ok) claim.release();
        expect(existsSync(join(d, PID_FILE))).toBe(false);
        const again = acquirePidFile(d, opts);
        expect(again.ok).toBe(true);
        if (again.ok) again.release();
      });

      it('never writes through a tend.pid symlink (the file it names keeps its bytes)', () => {
        const d = dir();
        const target = join(d, 'root-only');
        writeFileSync(target, 'precious\n');
        symlinkSync(target, join(d, PID_FILE));
        let claim: ReturnType<typeof acquirePidFile> | undefined;
        try {
          claim = acquirePidFile(d, opts);
        } catch {
          // refusing with an error is as good as refusing with a result: nothing was written
        }
        if (claim?.ok) claim.release();
        expect(readFileSync(target, 'utf8')).toBe('precious\n');
      });

      it('takes over a stale file: dead pid, or a live pid that is not tend', () => {
        const d = dir();
        writeFileSync(join(d, PID_FILE), '999999999\n');
        const a = acquirePidFile(d, opts);
        expect(a.ok).toBe(true);
        if (a.ok) a.release();

        const stranger = janitor.spawn('sleep', ['300']);
        writeFileSync(join(d, PID_FILE), `${stranger.pid}\n`);
        const b = acquirePidFile(d, opts);
        expect(b.ok).toBe(true);
        if (b.ok) b.release();

        writeFileSync(join(d, PID_FILE), 'garbage');
        const c = acquirePidFile(d, opts);
        expect(c.ok).toBe(true);
        if (c.ok) c.release();
      });
    });
  }

  it('without flock, a live node process named in the file counts as a running tend', () => {
    const d = dir();
    const node = janitor.spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    writeFileSync(join(d, PID_FILE), `${node.pid}\n`);
    expect(acquirePidFile(d, { lock: false })).toMatchObject({ ok: false, pid: node.pid });
    // The lock knows better: node holds no lock, so the file is stale.
    const claim = acquirePidFile(d);
    expect(claim.ok).toBe(true);
    if (claim.ok) claim.release();
  });

  it('end to end: tend SIGKILLed, the next one claims the dir and stops what it left, escaped daemon too', async () => {
    const d = dir();
    const first = await tendLike(d, 'lock');
    expect(first.ok).toBe(true);
    const { web, worker } = first.services!;
    const daemon = await waitFor(
      () => findMarked((m) => m.runId === first.runId && m.service === 'worker').find((p) => p !== worker),
      5000,
      'escaped daemon',
    );
    first.child.kill('SIGKILL');
    await waitFor(() => !isAlive(first.pid!), 5000, 'tend to die');
    // Its services live on, orphaned.
    expect([web, worker, daemon].every(isAlive)).toBe(true);

    const claim = acquirePidFile(d);
    expect(claim.ok).toBe(true);
    const outcomes = await killLeftovers(d, { timeoutMs: 2000 });
    expect(outcomes.sort((a, b) => a.pid - b.pid)).toEqual(
      [
        { pid: web, service: 'web', outcome: 'terminated' },
        { pid: worker, service: 'worker', outcome: 'terminated' },
        { pid: daemon, service: 'worker', outcome: 'terminated' },
      ].sort((a, b) => a.pid - b.pid),
    );
    expect([web, worker, daemon].some(isAlive)).toBe(false);
    if (claim.ok) claim.release();
  });
});
