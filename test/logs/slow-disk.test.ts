import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createServiceLog } from '../../src/logs/index.js';
import { closed, createScratch, fileLines, plan, rawText } from './helpers.js';

const scratch = createScratch();
afterEach(() => scratch.cleanup());

describe('service log: slow disk', () => {
  it('keeps every line, bounds memory and keeps the event loop free when the file drains slowly', async () => {
    const dir = scratch.dir();
    // a FIFO read at about 2 MB/s stands for a slow disk: each write blocks a thread-pool thread, not the loop
    const fifo = join(dir, 'web.log');
    const copy = join(dir, 'copy.log');
    execFileSync('mkfifo', [fifo]);
    const reader = scratch.track(
      spawn(
        process.execPath,
        [
          '-e',
          `const fs = require('fs'); const out = fs.createWriteStream(${JSON.stringify(copy)});
           const r = fs.createReadStream(${JSON.stringify(fifo)}, { highWaterMark: 32 * 1024 });
           r.on('data', (c) => { out.write(c); r.pause(); setTimeout(() => r.resume(), 15); });
           r.on('end', () => out.end());`,
        ],
        { stdio: 'ignore' },
      ),
    );
    const highWaterBytes = 256 * 1024;
    const log = createServiceLog({ service: 'web', plan: plan({ file: fifo }), highWaterBytes });
    const child = scratch.node(
      `let i = 0; (function more() { while (i < 100000) if (!process.stdout.write('line ' + i++ + ' ${'p'.repeat(20)}\\n')) return process.stdout.once('drain', more); })();`,
    );
    let maxPending = 0;
    let maxGap = 0;
    let last = Date.now();
    const timer = setInterval(() => {
      const now = Date.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      maxPending = Math.max(maxPending, log.stats().pending);
    }, 5);
    log.attach(child.stdout!, 'stdout');
    await closed(child);
    await log.close();
    clearInterval(timer);
    await closed(reader);

    const lines = fileLines(copy).map(rawText);
    expect(lines.length).toBe(100_000);
    expect(lines.every((t, i) => t.startsWith(`line ${i} `))).toBe(true);
    const s = log.stats();
    expect(s.dropped).toBe(0);
    expect(s.pauses).toBeGreaterThan(0);
    // the backlog stays near the high-water mark: what was in flight in the pipe when it paused, no more
    expect(maxPending).toBeLessThan(highWaterBytes + 1024 * 1024);
    // generous: the loop kept turning while the writes waited on the reader
    expect(maxGap).toBeLessThan(1000);
  });
});
