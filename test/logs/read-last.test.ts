import { appendFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readLastLines } from '../../src/logs/index.js';
import { createScratch } from './helpers.js';

const scratch = createScratch();
afterEach(() => scratch.cleanup());

describe('readLastLines', () => {
  it('returns the last N lines of a big file', async () => {
    const file = join(scratch.dir(), 'big.log');
    const all = Array.from(
      { length: 200_000 },
      (_, i) => `2026-11-22T03:12:00.123Z stdout line ${i} ${'z'.repeat(i % 97)}`,
    );
    writeFileSync(file, `${all.join('\n')}\n`);
    for (const n of [1, 2, 10, 999, 50_000]) expect(await readLastLines(file, n)).toEqual(all.slice(-n));
    expect(await readLastLines(file, 300_000)).toEqual(all);
  });

  it('reads only the end: the last lines of a sparse 1 TiB file come back at once', async () => {
    const file = join(scratch.dir(), 'huge.log');
    writeFileSync(file, '');
    let size = 2 ** 40;
    try {
      truncateSync(file, size);
    } catch {
      size = 2 ** 32; // a filesystem with a smaller file size limit: 4 GiB still takes far too long to read
      truncateSync(file, size);
    }
    appendFileSync(file, '\nfirst\nsecond\nthird\n');
    const t0 = Date.now();
    expect(await readLastLines(file, 3)).toEqual(['first', 'second', 'third']);
    // reading the whole file would take minutes; this bound is generous on purpose
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('handles empty files, no final newline, CRLF, n of 0 and lines longer than a read step', async () => {
    const dir = scratch.dir();
    const f = (name: string, text: string) => {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    };
    expect(await readLastLines(f('empty', ''), 5)).toEqual([]);
    expect(await readLastLines(f('one', 'only'), 5)).toEqual(['only']);
    expect(await readLastLines(f('nl', 'a\nb'), 1)).toEqual(['b']);
    expect(await readLastLines(f('crlf', 'a\r\nb\r\n'), 5)).toEqual(['a', 'b']);
    expect(await readLastLines(f('blank', 'a\n\n\nb\n'), 3)).toEqual(['', '', 'b']);
    expect(await readLastLines(f('zero', 'a\n'), 0)).toEqual([]);
    const long = 'é'.repeat(150_000);
    expect(await readLastLines(f('long', `x\n${long}\n${long}\ny\n`), 3)).toEqual([long, long, 'y']);
    await expect(readLastLines(join(dir, 'missing'), 1)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
