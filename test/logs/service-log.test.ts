import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLineSplitter, createServiceLog, type LogLine, parseLogLine } from '../../src/logs/index.js';
import { closed, createScratch, feed, fileLines, plan, rawStream, rawText } from './helpers.js';

const scratch = createScratch();
afterEach(() => scratch.cleanup());

// A burst: writes as fast as the pipe takes it, honouring backpressure like any well-behaved program.
const burst = (n: number, stderrEvery = 0) => `
let i = 0;
function more() {
  while (i < ${n}) {
    if (${stderrEvery} > 0 && i % ${stderrEvery} === 0) process.stderr.write('err ' + i + '\\n');
    if (!process.stdout.write('line ' + i++ + '\\n')) return process.stdout.once('drain', more);
  }
}
more();
`;

describe('service log: file', () => {
  it('keeps all 100,000 lines of a burst, in order, none dropped', async () => {
    const file = join(scratch.dir(), 'web.log');
    const log = createServiceLog({ service: 'web', plan: plan({ file }) });
    const child = scratch.node(burst(100_000));
    log.attach(child.stdout!, 'stdout');
    log.attach(child.stderr!, 'stderr');
    expect(await closed(child)).toBe(0);
    await log.close();
    const lines = fileLines(file);
    expect(lines.length).toBe(100_000);
    for (let i = 0; i < lines.length; i++) {
      if (rawText(lines[i]) !== `line ${i}`) throw new Error(`line ${i} is ${lines[i]}`);
    }
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z stdout line 0$/);
    expect(log.stats()).toMatchObject({ lines: 100_000, dropped: 0, bytes: statSync(file).size });
    // the ring kept the last lines as bytes and decodes them when asked, the same twice
    const last = ['line 99997', 'line 99998', 'line 99999'];
    expect(log.tail(3).map((l) => l.text)).toEqual(last);
    expect(log.tail(1000)[0].text).toBe('line 99000');
    expect(log.tail(3).map((l) => l.text)).toEqual(last);
  });

  it('keeps interleaved stdout and stderr, each in order and with its stream, with a tiny high-water mark', async () => {
    const file = join(scratch.dir(), 'web.log');
    // a 16 KiB high-water mark makes the children's pipes pause and resume all the time
    const log = createServiceLog({ service: 'web', plan: plan({ file }), highWaterBytes: 16 * 1024 });
    const child = scratch.node(burst(100_000, 3));
    log.attach(child.stdout!, 'stdout');
    log.attach(child.stderr!, 'stderr');
    expect(await closed(child)).toBe(0);
    await log.close();
    const out: string[] = [];
    const err: string[] = [];
    for (const l of fileLines(file)) (rawStream(l) === 'stdout' ? out : err).push(rawText(l));
    expect(out.length).toBe(100_000);
    expect(err.length).toBe(Math.ceil(100_000 / 3));
    expect(out.every((t, i) => t === `line ${i}`)).toBe(true);
    expect(err.every((t, i) => t === `err ${i * 3}`)).toBe(true);
    expect(log.stats().dropped).toBe(0);
    expect(log.stats().pauses).toBeGreaterThan(0);
  });

  it('handles lines split across writes, multi-byte characters split across chunks and a last line without \\n', async () => {
    const file = join(scratch.dir(), 'web.log');
    const log = createServiceLog({ service: 'web', plan: plan({ file }) });
    // each write is a separate chunk: the pauses let the parent read them one by one
    const child = scratch.node(`
      const parts = [Buffer.from('hél'), Buffer.from([0xc3]), Buffer.from([0xa9, 0x20, 0xe2, 0x82]),
        Buffer.from([0xac, 0x0a]), Buffer.from('crlf\\r'), Buffer.from('\\nno newline at end 😀')];
      let i = 0;
      const next = () => { if (i < parts.length) process.stdout.write(parts[i++], () => setTimeout(next, 20)); };
      next();
    `);
    log.attach(child.stdout!, 'stdout');
    await closed(child);
    await log.close();
    expect(fileLines(file).map(rawText)).toEqual(['hélé €', 'crlf', 'no newline at end 😀']);
    expect(log.tail().map((l) => l.text)).toEqual(['hélé €', 'crlf', 'no newline at end 😀']);
  });

  it('stamps each line as the splitter cuts it: CRLF, empty lines, long lines cut, chunks ending anywhere', async () => {
    // the file's stamped lines are written a chunk at a time (one copy, then each line moved behind its stamp):
    // whatever the chunks, the texts must be the lines the splitter finds in the whole stream
    const parts: string[] = [];
    for (let i = 0; i < 400; i++) {
      const len = i % 13 === 0 ? 0 : i % 17 === 0 ? 130 + i : (i * 7) % 40;
      parts.push(String.fromCharCode(97 + (i % 26)).repeat(len), i % 5 === 0 ? '\r\n' : '\n');
    }
    parts.push('\r', '\r\r\n', '\n\n', 'tail without newline');
    const all = Buffer.from(parts.join(''));
    const want: string[] = [];
    const sp = createLineSplitter(50, (b, start, end) => want.push(b.toString('utf8', start, end)));
    sp.push(all);
    sp.end();
    for (const step of [1, 3, 7, 64, 1000, all.length]) {
      const file = join(scratch.dir(), 'web.log');
      const log = createServiceLog({ service: 'web', plan: plan({ file }), maxLineBytes: 50 });
      const src = new PassThrough();
      log.attach(src, 'stdout');
      for (let at = 0; at < all.length; at += step) src.write(all.subarray(at, at + step));
      src.end();
      await new Promise((r) => setImmediate(r));
      await log.close();
      const lines = fileLines(file);
      expect(lines.every((l) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z stdout /.test(l))).toBe(true);
      expect(lines.map(rawText)).toEqual(want);
      expect(log.stats().lines).toBe(want.length);
    }
  });

  it('appends to an existing file and counts its size', async () => {
    const file = join(scratch.dir(), 'web.log');
    writeFileSync(file, 'old line\n');
    const log = createServiceLog({ service: 'web', plan: plan({ file, maxSizeBytes: 1000, keep: 1 }) });
    const out = feed(log);
    await out.write(`${'x'.repeat(900)}\n`);
    await log.flush();
    expect(log.stats().rotations).toBe(0);
    await out.write(`${'y'.repeat(100)}\n`); // 9 + ~930 + ~130 > 1000
    await log.close();
    expect(fileLines(`${file}.1`)[0]).toBe('old line');
    expect(fileLines(file).map(rawText)).toEqual(['y'.repeat(100)]);
    expect(log.stats().rotations).toBe(1);
  });

  it('writes json lines that parse back to the same text', async () => {
    const file = join(scratch.dir(), 'api.log');
    const log = createServiceLog({ service: 'api', plan: plan({ file, format: 'json' }) });
    const texts = ['plain', 'quote " and \\ backslash', 'tab\tbell\u0007', 'ünïcødé 😀', '', '{"nested":1}'];
    const child = scratch.node(
      `process.stdout.write(${JSON.stringify(texts.join('\n'))} + '\\n'); process.stderr.write('oops\\n');`,
    );
    log.attach(child.stdout!, 'stdout');
    log.attach(child.stderr!, 'stderr');
    await closed(child);
    log.note('exited with code 0');
    await log.close();
    const rows = fileLines(file).map((l) => JSON.parse(l));
    const out = rows.filter((r) => r.stream === 'stdout');
    expect(out.map((r) => r.msg)).toEqual(texts);
    for (const r of rows) {
      expect(Object.keys(r)).toEqual(['time', 'service', 'stream', 'msg']);
      expect(r.service).toBe('api');
      expect(Date.parse(r.time)).toBeGreaterThan(Date.parse('2020-01-01'));
    }
    expect(rows.find((r) => r.stream === 'stderr')?.msg).toBe('oops');
    // tend's own line about the service is not the service's output
    expect(rows.map((r) => r.stream)).not.toContain('tend');
    expect(log.tail(1)[0]).toMatchObject({ stream: 'tend', text: 'exited with code 0' });
    // and parseLogLine reads them back
    expect(parseLogLine(fileLines(file)[1], 'x')).toMatchObject({ service: 'api', text: texts[1] });
  });

  it('parses raw lines back', () => {
    expect(parseLogLine('2026-11-22T03:12:00.123Z stderr a b  c', 'web')).toEqual({
      time: Date.parse('2026-11-22T03:12:00.123Z'),
      service: 'web',
      stream: 'stderr',
      text: 'a b  c',
    });
    expect(parseLogLine('garbage', 'web')).toBeUndefined();
    expect(parseLogLine('2026-11-22T03:12:00.123Z nope x', 'web')).toBeUndefined();
  });

  it('writes no file without plan.file but still keeps the ring', async () => {
    const dir = scratch.dir();
    const log = createServiceLog({ service: 'web', plan: plan() });
    const child = scratch.node(`console.log('a'); console.log('b')`);
    log.attach(child.stdout!, 'stdout');
    await closed(child);
    await log.close();
    expect(log.tail().map((l) => l.text)).toEqual(['a', 'b']);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('service log: rotation', () => {
  it('keeps exactly `keep` old files, each within max size, holding the latest lines once and in order', async () => {
    const dir = scratch.dir();
    const file = join(dir, 'web.log');
    writeFileSync(`${file}.4`, 'stale from a run with a larger keep\n');
    const log = createServiceLog({ service: 'web', plan: plan({ file, maxSizeBytes: 4096, keep: 3 }) });
    const child = scratch.node(burst(5000));
    log.attach(child.stdout!, 'stdout');
    await closed(child);
    await log.close();
    expect(readdirSync(dir).sort()).toEqual(['web.log', 'web.log.1', 'web.log.2', 'web.log.3']);
    const all: number[] = [];
    for (const f of [`${file}.3`, `${file}.2`, `${file}.1`, file]) {
      expect(statSync(f).size).toBeLessThanOrEqual(4096);
      for (const l of fileLines(f)) all.push(Number(rawText(l).slice(5)));
    }
    expect(all[all.length - 1]).toBe(4999);
    expect(all.every((n, i) => i === 0 || n === all[i - 1] + 1)).toBe(true);
    expect(all.length).toBeGreaterThan((3 * 4096) / 50); // three full files and a bit
    expect(log.stats().rotations).toBeGreaterThan(3);
  });

  it('loses no line across rotations when keep is large enough', async () => {
    const dir = scratch.dir();
    const file = join(dir, 'web.log');
    const log = createServiceLog({ service: 'web', plan: plan({ file, maxSizeBytes: 8192, keep: 100 }) });
    const child = scratch.node(burst(5000));
    log.attach(child.stdout!, 'stdout');
    await closed(child);
    await log.close();
    const files = readdirSync(dir)
      .map((f) => (f === 'web.log' ? 0 : Number(f.split('.').pop())))
      .sort((a, b) => b - a);
    expect(files.length).toBe(log.stats().rotations + 1);
    const all: string[] = [];
    for (const k of files) all.push(...fileLines(k === 0 ? file : `${file}.${k}`).map(rawText));
    expect(all).toEqual(Array.from({ length: 5000 }, (_, i) => `line ${i}`));
  });

  it('truncates in place with keep: 0', async () => {
    const dir = scratch.dir();
    const file = join(dir, 'web.log');
    const log = createServiceLog({ service: 'web', plan: plan({ file, maxSizeBytes: 4096, keep: 0 }) });
    const child = scratch.node(burst(3000));
    log.attach(child.stdout!, 'stdout');
    await closed(child);
    await log.close();
    expect(readdirSync(dir)).toEqual(['web.log']);
    expect(statSync(file).size).toBeLessThanOrEqual(4096);
    const last = fileLines(file).map(rawText);
    expect(last[last.length - 1]).toBe('line 2999');
    expect(last.every((t, i) => i === 0 || Number(t.slice(5)) === Number(last[i - 1].slice(5)) + 1)).toBe(
      true,
    );
  });

  it('puts a line larger than max size alone in its file', async () => {
    const file = join(scratch.dir(), 'web.log');
    const log = createServiceLog({ service: 'web', plan: plan({ file, maxSizeBytes: 100, keep: 5 }) });
    const out = feed(log);
    await out.write(`a\n${'b'.repeat(300)}\n`);
    await out.write('c\n');
    await log.close();
    expect(fileLines(`${file}.2`).map(rawText)).toEqual(['a']);
    expect(fileLines(`${file}.1`).map(rawText)).toEqual(['b'.repeat(300)]);
    expect(fileLines(file).map(rawText)).toEqual(['c']);
  });
});

describe('service log: ring and listeners', () => {
  it('keeps the last lines in order while the ring grows to its size and after it wraps', async () => {
    // the ring starts empty and grows (16, 32, 40 here): a silent service holds no ring at all
    const log = createServiceLog({ service: 'web', plan: plan(), ringSize: 40 });
    expect(log.tail()).toEqual([]);
    const texts = (n?: number) => log.tail(n).map((l) => l.text);
    const upTo = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `n${from + i}`);
    let written = 0;
    for (const until of [1, 16, 17, 33, 40, 41, 95, 120]) {
      while (written < until) log.note(`n${written++}`);
      const kept = Math.min(written, 40);
      expect(texts()).toEqual(upTo(written - kept, written));
      expect(texts(3)).toEqual(upTo(Math.max(0, written - 3), written));
    }
    await log.close();
  });

  it('sees every line in order with its stream, including notes', async () => {
    const log = createServiceLog({ service: 'web', plan: plan(), ringSize: 5 });
    const seen: LogLine[] = [];
    const off = log.onLine((l) => seen.push(l));
    log.onLine(() => {
      throw new Error('a broken listener');
    });
    const child = scratch.node(`for (let i = 0; i < 20; i++) console.log('l' + i); console.error('bad');`);
    log.attach(child.stdout!, 'stdout');
    await closed(child);
    log.attach(child.stderr!, 'stderr'); // already ended: nothing lost, nothing breaks
    log.note('exited with code 0');
    expect(seen.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(
      Array.from({ length: 20 }, (_, i) => `l${i}`),
    );
    expect(seen[seen.length - 1]).toMatchObject({
      service: 'web',
      stream: 'tend',
      text: 'exited with code 0',
    });
    const tail = log.tail();
    expect(tail.length).toBe(5);
    expect(tail[tail.length - 1].text).toBe('exited with code 0');
    expect(log.tail(2).map((l) => l.stream)).toEqual([tail[3].stream, 'tend']);
    expect(log.stats().listenerErrors).toBeGreaterThan(0);
    off();
    log.note('after');
    expect(seen[seen.length - 1].text).toBe('exited with code 0');
    await log.close();
  });

  it('counts lines written after close as dropped', async () => {
    const file = join(scratch.dir(), 'web.log');
    const log = createServiceLog({ service: 'web', plan: plan({ file }) });
    const out = feed(log);
    await out.write('before\n');
    await log.close();
    await out.write('after\n');
    expect(fileLines(file).map(rawText)).toEqual(['before']);
    expect(log.stats().dropped).toBe(1);
    expect(existsSync(file)).toBe(true);
  });
});
