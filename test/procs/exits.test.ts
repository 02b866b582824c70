/**
 * Collecting exits among many live children (exits.ts): a burst of exits is collected with the right codes,
 * none of Node's children is taken, orphans are reaped, and the cost of an exit does not grow with the number
 * of children still running.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fastSpawnAvailable } from '../../src/procs/index.js';
import { buildFixtures, processJanitor, runJson, tempDir } from './helpers.js';

function straceWorks(): boolean {
  try {
    execFileSync('strace', ['-qq', '-e', 'trace=wait4', '-o', '/dev/null', 'true'], {
      stdio: 'ignore',
      timeout: 5000,
    });
    return true;
  } catch {
    return false;
  }
}

describe.runIf(process.platform === 'linux' && fastSpawnAvailable())('exits among many children', () => {
  let build: ReturnType<typeof buildFixtures>;
  const janitor = processJanitor();
  const dirs: string[] = [];
  beforeAll(() => {
    build = buildFixtures();
  });
  afterAll(() => build?.cleanup());
  afterEach(() => {
    janitor.cleanup();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const scenario = (
    counts: { idle: number; burst: number; node: number; orphans: number },
    trace?: string,
  ) => {
    const dir = tempDir();
    dirs.push(dir);
    const fifo = join(dir, 'go');
    execFileSync('mkfifo', [fifo]);
    const args = [
      build.script('exits-scenario.js'),
      fifo,
      ...[counts.idle, counts.burst, counts.node, counts.orphans].map(String),
    ];
    return trace
      ? runJson(
          'strace',
          ['-qq', '-e', 'trace=wait4,waitid', '-o', trace, process.execPath, ...args],
          janitor,
          90_000,
        )
      : runJson(process.execPath, args, janitor, 90_000);
  };

  it('a burst of exits is collected with every code, Node keeps its own children, orphans are reaped', async () => {
    const r = await scenario({ idle: 200, burst: 150, node: 40, orphans: 20 });
    expect(r.subreaper).toBe(true);
    expect(r.burst).toEqual({ n: 150, right: 150 });
    expect(r.node).toEqual({ n: 60, right: 60 });
    expect(r.reaped).toBe(20);
    expect(r.zombies).toEqual([]);
    expect(r.idleGone).toBe(0);
  }, 120_000);

  it('a child of Node’s first in line is left to libuv, and the service behind it is still collected', async () => {
    const r = await runJson(process.execPath, [build.script('exits-head.js')], janitor);
    expect(r).toEqual({ leftToLibuv: true, node: 5, fast: 7 });
  });

  it.runIf(straceWorks())(
    'an exit costs a few wait calls, not one per child still running',
    async () => {
      const traceDir = tempDir();
      dirs.push(traceDir);
      const trace = join(traceDir, 'waits.txt');
      const counts = { idle: 1000, burst: 100, node: 10, orphans: 10 };
      const r = await scenario(counts, trace);
      expect(r.burst).toEqual({ n: 100, right: 100 });
      expect(r.node).toEqual({ n: 20, right: 20 });
      expect(r.zombies).toEqual([]);
      // libuv's own waits (on Node's children, by pid) are not tend's: left out
      const nodePids = new Set((r.pids as { node: number[] }).node);
      let ours = 0;
      for (const line of readFileSync(trace, 'utf8').split('\n')) {
        if (line.startsWith('waitid(')) ours++;
        const m = /^wait4\((-?\d+),/.exec(line);
        if (m && !nodePids.has(Number(m[1]))) ours++;
      }
      // Per exit tend collects (the 100 services, the 10 orphans): one peek that names it, one waitpid, and a
      // last peek per SIGCHLD; asking each of the 1,000 idle services on every SIGCHLD would be >= 1,100.
      expect(ours).toBeGreaterThan(0);
      expect(ours).toBeLessThan(4 * (counts.burst + counts.orphans) + 50);
    },
    120_000,
  );
});
