import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLineSplitter } from '../../src/logs/split.js';

function collect(maxLineBytes = 64 * 1024) {
  const out: string[] = [];
  const s = createLineSplitter(maxLineBytes, (buf, start, end) => out.push(buf.toString('utf8', start, end)));
  return { s, out };
}

describe('line splitter', () => {
  it('joins lines split across chunks and keeps empty lines', () => {
    const { s, out } = collect();
    for (const c of ['hel', 'lo\nwor', 'ld\n', '\n', 'a\nb\nc', '', 'd\n']) s.push(Buffer.from(c));
    s.end();
    expect(out).toEqual(['hello', 'world', '', 'a', 'b', 'cd']);
  });

  it('reassembles a multi-byte character cut at every possible byte', () => {
    const text = 'é€😀 ünïcødé\n';
    const bytes = Buffer.from(text);
    for (let i = 1; i < bytes.length; i++) {
      for (let j = i; j < bytes.length; j++) {
        const { s, out } = collect();
        s.push(bytes.subarray(0, i));
        s.push(bytes.subarray(i, j));
        s.push(bytes.subarray(j));
        s.end();
        expect(out).toEqual(['é€😀 ünïcødé']);
      }
    }
  });

  it('emits a trailing line without a newline at the end, and nothing more', () => {
    const { s, out } = collect();
    s.push(Buffer.from('one\ntwo'));
    s.end();
    s.end();
    expect(out).toEqual(['one', 'two']);
  });

  it('strips a trailing \\r, also when \\r and \\n arrive in different chunks', () => {
    const { s, out } = collect();
    s.push(Buffer.from('a\r\nb\r'));
    s.push(Buffer.from('\nc\rd\r\n'));
    s.end();
    expect(out).toEqual(['a', 'b', 'c\rd']);
  });

  it('cuts long lines into pieces of at most maxLineBytes, never inside a character', () => {
    const { s, out } = collect(10);
    const line = 'ab€€€€€€€€cd'; // 2 + 8*3 + 2 bytes
    s.push(Buffer.from(`${line}\nshort\n`));
    s.end();
    for (const piece of out) expect(Buffer.byteLength(piece)).toBeLessThanOrEqual(10);
    expect(out.join('|')).not.toContain('\ufffd');
    expect(out.slice(0, -1).join('')).toBe(line);
    expect(out[out.length - 1]).toBe('short');
  });

  it('cuts a long line that arrives in many small chunks', () => {
    const { s, out } = collect(8);
    const line = 'x'.repeat(30);
    for (const ch of line) s.push(Buffer.from(ch));
    s.push(Buffer.from('\nnext\n'));
    s.end();
    expect(out).toEqual(['xxxxxxxx', 'xxxxxxxx', 'xxxxxxxx', 'xxxxxx', 'next']);
  });

  it('does not invent an empty line when a cut falls right before the newline', () => {
    const { s, out } = collect(8);
    s.push(Buffer.from('12345678'));
    s.push(Buffer.from('\r\n'));
    s.push(Buffer.from('abcdefgh\n'));
    s.end();
    expect(out).toEqual(['12345678', 'abcdefgh']);
  });

  it('gives back the same lines however the bytes are chunked (property)', () => {
    const line = fc.string({ unit: 'grapheme', maxLength: 40 }).map((t) => t.replace(/[\r\n]/g, ''));
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.boolean(),
        (lines, cuts, finalNl) => {
          const bytes = Buffer.from(lines.join('\n') + (finalNl && lines.length > 0 ? '\n' : ''));
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const { s, out } = collect();
          let prev = 0;
          for (const p of [...points, bytes.length]) {
            s.push(bytes.subarray(prev, p));
            prev = p;
          }
          s.end();
          // a text's lines: what is between `\n`s, and a last line only if it is not empty
          const expected = bytes.toString().split('\n');
          if (expected[expected.length - 1] === '') expected.pop();
          expect(out).toEqual(expected);
        },
      ),
    );
  });

  it('cuts long lines into pieces that rebuild them (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }),
        fc.integer({ min: 4, max: 50 }),
        (t, max) => {
          const text = t.replace(/[\r\n]/g, 'x');
          const { s, out } = collect(max);
          s.push(Buffer.from(`${text}\n`));
          s.end();
          for (const piece of out) expect(Buffer.byteLength(piece)).toBeLessThanOrEqual(max);
          expect(out.join('')).toBe(text);
        },
      ),
    );
  });
});
