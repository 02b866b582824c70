import { afterEach, describe, expect, it } from 'vitest';
import {
  descendants,
  groupMembers,
  groupUsage,
  isAlive,
  listChildren,
  processInfo,
} from '../../src/procs/index.js';
import { parseStat } from '../../src/procs/proc.js';
import { isNodeChild, spawnTracked } from '../../src/procs/tracked.js';
import { processJanitor, waitFor } from './helpers.js';

const linux = process.platform === 'linux';

describe('parseStat', () => {
  it('reads fields after a comm containing spaces and parentheses', () => {
    const rest = Array.from({ length: 49 }, (_, i) => String(i + 3));
    rest[0] = 'S';
    rest[1] = '10';
    rest[2] = '11';
    rest[3] = '12';
    rest[19] = '987654';
    const info = parseStat(`4242 (we (ird) name) ${rest.join(' ')}\n`);
    expect(info).toEqual({
      pid: 4242,
      comm: 'we (ird) name',
      state: 'S',
      ppid: 10,
      pgid: 11,
      sid: 12,
      startTime: 987654,
      // utime (14) + stime (15), rss (24)
      cpuTicks: 29,
      rssPages: 24,
    });
  });

  it('rejects what is not a stat line', () => {
    expect(parseStat('')).toBeUndefined();
    expect(parseStat('12 (x) S 1')).toBeUndefined();
  });
});

describe.skipIf(!linux)('groupUsage', () => {
  it('sums CPU time and resident memory over the members of a process group', () => {
    const self = processInfo(process.pid)!;
    const usage = groupUsage([self.pgid]).get(self.pgid)!;
    expect(usage.processes).toBeGreaterThanOrEqual(1);
    // node itself is resident for tens of MiB and has used CPU to get here
    expect(usage.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(usage.cpuSeconds).toBeGreaterThan(0);
    expect(groupUsage([999_999_999]).size).toBe(0);
  });
});

describe.skipIf(!linux)('/proc', () => {
  const janitor = processJanitor();
  afterEach(() => janitor.cleanup());

  it('describes this process', () => {
    const info = processInfo(process.pid)!;
    expect(info.pid).toBe(process.pid);
    expect(info.ppid).toBe(process.ppid);
    expect(info.state).toMatch(/[RS]/);
    expect(info.startTime).toBeGreaterThan(0);
    expect(processInfo(process.pid)!.startTime).toBe(info.startTime);
    expect(processInfo(0)).toBeUndefined();
    expect(processInfo(2 ** 22 + 1)).toBeUndefined();
  });

  it('lists children and the whole tree; isAlive says no to a zombie', async () => {
    const child = janitor.spawn('sh', ['-c', 'sleep 300 & sleep 300 & exec sleep 300']);
    const sh = child.pid!;
    const info = processInfo(sh)!;
    expect(info.ppid).toBe(process.pid);
    // Detached: leader of its own group and session.
    expect(info.pgid).toBe(sh);
    expect(info.sid).toBe(sh);
    expect(listChildren(process.pid)).toContain(sh);
    const kids = await waitFor(() => listChildren(sh).length === 2 && listChildren(sh), 5000, 'two sleeps');
    expect(descendants(sh)).toEqual(kids);
    expect(descendants(process.pid)).toEqual(expect.arrayContaining([sh, ...kids]));
    expect(isAlive(sh)).toBe(true);
    expect(groupMembers(sh)).toEqual([sh, ...kids].sort((a, b) => a - b));

    process.kill(kids[0], 'SIGKILL');
    // The sleep is now a zombie of sh (which is busy being sleep and never waits): not alive.
    await waitFor(() => processInfo(kids[0])?.state === 'Z', 5000, 'zombie');
    expect(isAlive(kids[0])).toBe(false);
    // Still in the group as a zombie, but no longer a running member.
    expect(groupMembers(sh)).toEqual([sh, kids[1]].sort((a, b) => a - b));
    expect(isAlive(999_999_999)).toBe(false);
  });

  it('tracks a Node child until its exit event, then forgets it', async () => {
    const child = spawnTracked('sh', ['-c', 'exit 4']);
    expect(isNodeChild(child.pid!)).toBe(true);
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(4);
    expect(isNodeChild(child.pid!)).toBe(false);
  });
});
