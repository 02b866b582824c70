import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Pretends to run on macOS: every piece must degrade with a warning, never throw.
describe('on a platform without /proc or prctl', () => {
  const platform = process.platform;
  let dir: string;
  beforeAll(() => {
    Object.defineProperty(process, 'platform', { value: 'darwin' });
    vi.resetModules();
    dir = mkdtempSync(join(tmpdir(), 'tend-procs-'));
  });
  afterAll(() => {
    Object.defineProperty(process, 'platform', { value: platform });
    rmSync(dir, { recursive: true, force: true });
  });

  it('says what it cannot do', async () => {
    const procs = await import('../../src/procs/index.js');
    expect(procs.procAvailable()).toBe(false);
    const sub = procs.becomeSubreaper();
    expect(sub.ok).toBe(false);
    expect(sub.warning).toMatch(/Linux-only/);
    const reaper = procs.startReaper();
    expect(reaper.warning).toMatch(/cannot reap/);
    expect(reaper.reapNow()).toBe(0);
    reaper.stop();
    expect(procs.processInfo(process.pid)).toBeUndefined();
    expect(procs.listChildren(process.pid)).toEqual([]);
    expect(procs.descendants(process.pid)).toEqual([]);
    expect(procs.findMarked(() => true)).toEqual([]);
    // Falls back to kill(pid, 0).
    expect(procs.isAlive(process.pid)).toBe(true);
    const logs: string[] = [];
    const record = procs.createPidRecord(dir, 'run-1');
    record.add({ pid: 1234, service: 'web' });
    await record.flush();
    expect(record.entries()[0].startTime).toBeNull();
    expect(await procs.killLeftovers(dir, { timeoutMs: 10, log: (m) => logs.push(m) })).toEqual([]);
    expect(logs.join()).toMatch(/not available/);
    const claim = procs.acquirePidFile(dir);
    expect(claim.ok).toBe(true);
    if (claim.ok) {
      expect(claim.warning).toMatch(/no file locking/);
      claim.release();
    }
  });
});

describe('decodeWaitStatus', () => {
  it('reads exit codes and signals', async () => {
    const { decodeWaitStatus } = await import('../../src/procs/index.js');
    expect(decodeWaitStatus(3 << 8)).toEqual({ code: 3, signal: null });
    expect(decodeWaitStatus(0)).toEqual({ code: 0, signal: null });
    expect(decodeWaitStatus(9)).toEqual({ code: null, signal: 9 });
  });
});
