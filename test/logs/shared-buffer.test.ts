// Services' output is read into one buffer shared by every socket (src/logs/reader.ts, net.Socket `onread`),
// which the next read of any service overwrites. These tests run real children through posix_spawn as tend does
// and check that nothing a log keeps (file, ring, carry of an unfinished line) still points into that buffer:
// two services write at once, lines split across writes, binary bytes, CRLF, a long line, no last newline.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createServiceLog, OUTPUT_ONREAD, type ServiceLog } from '../../src/logs/index.js';
import { fastSpawn, fastSpawnAvailable } from '../../src/procs/index.js';
import { createScratch, plan } from './helpers.js';

const scratch = createScratch();
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    try {
      process.kill(-(c.pid as number), 'SIGKILL');
    } catch {}
  }
  await scratch.cleanup();
});

// The output of one service, made the same way in the child and in the test: lines of random bytes (never
// `\n` or `\r`) of 0–300 bytes, every 7th ending in CRLF, one 50,000-byte line, no newline after the last one,
// and the pieces handed to write() cut at random places, so lines arrive split across reads.
const GENERATE = `(seed, lines) => {
  let x = seed >>> 0;
  const rnd = (n) => { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; return x % n; };
  const parts = [];
  for (let i = 0; i < lines; i++) {
    const len = i === 100 ? 50000 : rnd(301);
    const b = Buffer.alloc(len);
    for (let k = 0; k < len; k++) { let v = rnd(256); if (v === 10 || v === 13) v = 65; b[k] = v; }
    parts.push(b, Buffer.from(i === lines - 1 ? '' : i % 7 === 0 ? '\\r\\n' : '\\n'));
  }
  const all = Buffer.concat(parts);
  const pieces = [];
  for (let at = 0; at < all.length; ) { const n = 1 + rnd(9000); pieces.push(all.subarray(at, at + n)); at += n; }
  return { all, pieces };
}`;

const generate = new Function(`return ${GENERATE}`)() as (
  seed: number,
  lines: number,
) => { all: Buffer; pieces: Buffer[] };

/** a child that writes the generated output to `fd` (1 or 2) piece by piece */
function start(seed: number, lines: number, fd = 1): ChildProcess {
  const script = `const { pieces } = (${GENERATE})(${seed}, ${lines});
for (const p of pieces) require('node:fs').writeSync(${fd}, p);`;
  const c = fastSpawn(process.execPath, ['-e', script], {
    cwd: scratch.dir(),
    env: { PATH: process.env.PATH },
    onread: OUTPUT_ONREAD,
  });
  if (!c) throw new Error('posix_spawn is not available here');
  children.push(c);
  return c;
}

const ended = (c: ChildProcess) =>
  Promise.all([c.stdout, c.stderr].map((s) => new Promise((r) => s?.once('close', r))));

/** the generated lines as the ring gives them: split on `\n`, a CR before it dropped */
function linesOf(all: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (let nl = all.indexOf(10); nl !== -1; nl = all.indexOf(10, at)) {
    out.push(all.subarray(at, all[nl - 1] === 13 ? nl - 1 : nl));
    at = nl + 1;
  }
  out.push(all.subarray(at));
  return out;
}

describe.runIf(fastSpawnAvailable())('output read into the shared buffer', () => {
  it('raw: two services writing at once each get exactly their bytes in their file and ring', async () => {
    const dir = scratch.dir();
    const logs: ServiceLog[] = [];
    const kids: ChildProcess[] = [];
    for (const seed of [1, 2]) {
      // a 1 KiB high-water mark: nearly every read pauses the socket and the next write resumes it (readStop and
      // readStart under onread)
      const log = createServiceLog({
        service: `s${seed}`,
        plan: plan({ file: join(dir, `s${seed}.log`), timestamps: false }),
        highWaterBytes: 1024,
      });
      const c = start(seed, 20_000);
      log.attach(c.stdout!, 'stdout');
      log.attach(c.stderr!, 'stderr');
      logs.push(log);
      kids.push(c);
    }
    await Promise.all(kids.map(ended));
    for (const [i, seed] of [1, 2].entries()) {
      await logs[i].close();
      const { all } = generate(seed, 20_000);
      // the bytes as written; only the last line, which had no newline, got one
      expect(readFileSync(join(dir, `s${seed}.log`)).equals(Buffer.concat([all, Buffer.from('\n')]))).toBe(
        true,
      );
      expect(logs[i].stats()).toMatchObject({ lines: 20_000, dropped: 0 });
      expect(logs[i].stats().pauses).toBeGreaterThan(0);
      const want = linesOf(all)
        .slice(-50)
        .map((b) => b.toString('utf8'));
      expect(logs[i].tail(50).map((l) => l.text)).toEqual(want);
    }
  });

  it('time-stamped: every line once, in order, behind its stamp, from stdout and stderr at once', async () => {
    const dir = scratch.dir();
    const file = join(dir, 'web.log');
    const log = createServiceLog({ service: 'web', plan: plan({ file }) });
    const out = start(3, 10_000, 1);
    const err = start(4, 10_000, 2);
    for (const c of [out, err]) {
      log.attach(c.stdout!, 'stdout');
      log.attach(c.stderr!, 'stderr');
    }
    await Promise.all([out, err].map(ended));
    await log.close();
    const got: Record<string, Buffer[]> = { stdout: [], stderr: [] };
    const bytes = readFileSync(file);
    let at = 0;
    for (let nl = bytes.indexOf(10); nl !== -1; nl = bytes.indexOf(10, at)) {
      const line = bytes.subarray(at, nl);
      const a = line.indexOf(32);
      const b = line.indexOf(32, a + 1);
      expect(line.subarray(0, a).toString()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      got[line.subarray(a + 1, b).toString()].push(line.subarray(b + 1));
      at = nl + 1;
    }
    expect(at).toBe(bytes.length);
    for (const [stream, seed] of [
      ['stdout', 3],
      ['stderr', 4],
    ] as const) {
      const want = linesOf(generate(seed, 10_000).all);
      expect(got[stream].length).toBe(want.length);
      const bad = want.findIndex((w, i) => !w.equals(got[stream][i]));
      expect(bad).toBe(-1);
    }
    expect(log.stats()).toMatchObject({ lines: 20_000, dropped: 0 });
  });

  it('a socket nobody routed still hands out its output as data', async () => {
    const c = start(5, 2_000);
    const chunks: Buffer[] = [];
    c.stdout?.on('data', (b: Buffer) => chunks.push(b));
    c.stderr?.resume();
    await ended(c);
    expect(Buffer.concat(chunks).equals(generate(5, 2_000).all)).toBe(true);
  });
});
