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
});
