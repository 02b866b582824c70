// `format: raw` without time stamps (the default): the file holds the bytes the service wrote, nothing in front,
// and tend's own lines about the service stay out of it (a log shipper such as Promtail reads that file).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createServiceLog, type LogLine, type LogStream } from '../../src/logs/index.js';
import { closed, createScratch, feed, fileLines, plan } from './helpers.js';

const scratch = createScratch();
afterEach(() => scratch.cleanup());

const bare = (over: Parameters<typeof plan>[0] = {}) => plan({ timestamps: false, ...over });

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

describe('raw log without time stamps', () => {
  it('is the bytes the service wrote: 100,000 lines, stdout and stderr each in order, nothing in front', async () => {
    const file = join(scratch.dir(), 'web.log');
    // a ring that holds everything: stdout and stderr are read as separate streams, so under load the last
    // lines read can all be stderr's backlog
    const log = createServiceLog({
      service: 'web',
      plan: bare({ file }),
      highWaterBytes: 16 * 1024,
      ringSize: 200_000,
    });
    const child = scratch.node(burst(100_000, 3));
    log.attach(child.stdout!, 'stdout');
    log.attach(child.stderr!, 'stderr');
    expect(await closed(child)).toBe(0);
    log.note('process 42 exited with code 0');
    await log.close();
    const lines = fileLines(file);
    const out = lines.filter((l) => l.startsWith('line '));
    const err = lines.filter((l) => l.startsWith('err '));
    expect(out.length + err.length).toBe(lines.length);
    expect(out.every((t, i) => t === `line ${i}`)).toBe(true);
    expect(err.every((t, i) => t === `err ${i * 3}`)).toBe(true);
    expect(out.length).toBe(100_000);
    expect(log.stats()).toMatchObject({
      lines: 100_000 + err.length + 1,
      dropped: 0,
      bytes: statSync(file).size,
    });
    // the note is tend's, in the ring (tend logs) but not in the file
    expect(readFileSync(file, 'utf8')).not.toContain('exited');
    const tail = log.tail(3);
    expect(tail[2]).toMatchObject({ stream: 'tend', text: 'process 42 exited with code 0' });
    expect(
      log
        .tail(200_000)
        .filter((l) => l.stream === 'stdout')
        .pop()?.text,
    ).toBe('line 99999');
  });

  it('keeps CRLF, characters split across chunks, and ends a last line that had no newline', async () => {
    const file = join(scratch.dir(), 'web.log');
    const log = createServiceLog({ service: 'web', plan: bare({ file }) });
    const child = scratch.node(`
      const parts = [Buffer.from('hél'), Buffer.from([0xc3]), Buffer.from([0xa9, 0x20, 0xe2, 0x82]),
        Buffer.from([0xac, 0x0a]), Buffer.from('crlf\\r'), Buffer.from('\\n\\tno newline at end 😀')];
      let i = 0;
      const next = () => { if (i < parts.length) process.stdout.write(parts[i++], () => setTimeout(next, 20)); };
      next();
    `);
    log.attach(child.stdout!, 'stdout');
    await closed(child);
    await log.close();
    expect(readFileSync(file, 'utf8')).toBe('hélé €\ncrlf\r\n\tno newline at end 😀\n');
    expect(log.tail().map((l) => l.text)).toEqual(['hélé €', 'crlf', '\tno newline at end 😀']);
    expect(log.stats().lines).toBe(3);
  });

  it('sends tend’s notes to the echo and listeners, never to the file', async () => {
    const file = join(scratch.dir(), 'web.log');
    const echoed: string[] = [];
    const echo = {
      write: (_s: string, stream: LogStream, text: string) => echoed.push(`${stream} ${text}`) > 0,
    };
    const log = createServiceLog({ service: 'web', plan: bare({ file, stdout: true }), echo });
    const out = feed(log);
    await out.write('listening on :8080\n');
    log.note('ready after 254ms');
    await out.write('GET /\n');
    await log.close();
    expect(readFileSync(file, 'utf8')).toBe('listening on :8080\nGET /\n');
    expect(echoed).toEqual(['stdout listening on :8080', 'tend ready after 254ms', 'stdout GET /']);
  });

  it('gives a listener that joins mid-line only whole lines, from the next one on', async () => {
    const log = createServiceLog({ service: 'web', plan: bare() });
    const out = feed(log);
    await out.write('first\nhalf a ');
    const seen: LogLine[] = [];
    const off = log.onLine((l) => seen.push(l));
    await out.write('line\nsecond\nthi');
    await out.write('rd\n');
    off();
    await out.write('fourth\n');
    expect(seen.map((l) => l.text)).toEqual(['second', 'third']);
    expect(log.tail().map((l) => l.text)).toEqual(['first', 'half a line', 'second', 'third', 'fourth']);
  });

  it('keeps the unfinished lines of two live stdout streams apart (a restart while a leftover still writes)', async () => {
    const file = join(scratch.dir(), 'web.log');
    const log = createServiceLog({ service: 'web', plan: bare({ file }) });
    const old = feed(log);
    const fresh = feed(log);
    await old.write('old begins ');
    await fresh.write('new begins ');
    await old.write('and ends\n');
    await fresh.write('and ends too\n');
    await log.close();
    expect(readFileSync(file, 'utf8')).toBe('old begins and ends\nnew begins and ends too\n');
    expect(log.tail().map((l) => l.text)).toEqual(['old begins and ends', 'new begins and ends too']);
  });

  it('keeps a bounded ring that tail() splits from a line start', async () => {
    const log = createServiceLog({ service: 'web', plan: bare(), ringSize: 4 }); // 1 KiB of chunks
    const out = feed(log);
    for (let i = 0; i < 100; i++) await out.write(`${String(i).padStart(3, '0')} ${'x'.repeat(95)}\n`);
    expect(log.tail().length).toBe(4);
    const tail = log.tail(1000);
    expect(tail.length).toBeGreaterThan(4);
    expect(tail.length).toBeLessThan(20);
    expect(tail[tail.length - 1].text.startsWith('099 ')).toBe(true);
    expect(tail.every((l) => /^\d{3} x{95}$/.test(l.text))).toBe(true);
    expect(log.tail(2).map((l) => l.text.slice(0, 3))).toEqual(['098', '099']);
  });

  it('keeps the end of a chunk larger than the whole ring, from its first whole line', async () => {
    for (const plan_ of [bare(), plan()]) {
      const log = createServiceLog({ service: 'web', plan: plan_, ringSize: 4 }); // 1 KiB of output
      const out = feed(log);
      await out.write('first\n');
      let big = '';
      for (let i = 0; i < 100; i++) big += `${String(i).padStart(3, '0')} ${'y'.repeat(45)}\n`; // 5,000 bytes
      await out.write(big);
      const tail = log.tail(1000);
      expect(tail.length).toBeGreaterThan(10);
      expect(tail.length).toBeLessThanOrEqual(21);
      expect(tail.every((l) => /^\d{3} y{45}$/.test(l.text))).toBe(true);
      expect(tail[tail.length - 1].text.startsWith('099 ')).toBe(true);
      await log.close();
    }
  });

  it('cuts a line that never ends at maxLineBytes instead of holding it all', async () => {
    const file = join(scratch.dir(), 'web.log');
    const log = createServiceLog({ service: 'web', plan: bare({ file }), maxLineBytes: 1000 });
    const out = feed(log);
    for (let i = 0; i < 25; i++) await out.write('é'.repeat(100)); // 5,000 bytes, no newline
    await out.end();
    await log.close();
    const lines = fileLines(file);
    expect(lines.join('')).toBe('é'.repeat(2500));
    expect(lines.every((l) => Buffer.byteLength(l) <= 1000)).toBe(true);
  });

  it('loses no line across rotations, each file within max size and holding whole lines', async () => {
    const dir = scratch.dir();
    const file = join(dir, 'web.log');
    const log = createServiceLog({ service: 'web', plan: bare({ file, maxSizeBytes: 8192, keep: 100 }) });
    const child = scratch.node(burst(5000));
    log.attach(child.stdout!, 'stdout');
    await closed(child);
    await log.close();
    const files = readdirSync(dir)
      .map((f) => (f === 'web.log' ? 0 : Number(f.split('.').pop())))
      .sort((a, b) => b - a);
    expect(files.length).toBe(log.stats().rotations + 1);
    expect(files.length).toBeGreaterThan(3);
    const all: string[] = [];
    for (const k of files) {
      const f = k === 0 ? file : `${file}.${k}`;
      expect(statSync(f).size).toBeLessThanOrEqual(8192);
      all.push(...fileLines(f));
    }
    expect(all).toEqual(Array.from({ length: 5000 }, (_, i) => `line ${i}`));
  });

  it('counts the lines of chunks lost on a full device and writes again once the file is replaced', async () => {
    const file = join(scratch.dir(), 'web.log');
    execFileSync('mknod', [file, 'c', '1', '7']); // /dev/full's numbers
    const warnings: string[] = [];
    const log = createServiceLog({ service: 'web', plan: bare({ file }), warn: (m) => warnings.push(m) });
    const out = feed(log);
    await out.write('a\nb\nc\n');
    await log.flush();
    expect(log.stats().dropped).toBe(3);
    unlinkSync(file);
    await out.write('d\n');
    await log.close();
    expect(readFileSync(file, 'utf8')).toBe('d\n');
    expect(warnings[1]).toBe('3 log lines were dropped (ENOSPC); writing again');
  });

  it('pauses a fast child while the file is behind and still keeps every byte (in-process stream)', async () => {
    const file = join(scratch.dir(), 'web.log');
    const log = createServiceLog({ service: 'web', plan: bare({ file }), highWaterBytes: 4096 });
    const src = new PassThrough();
    log.attach(src, 'stdout');
    let expected = '';
    for (let i = 0; i < 2000; i++) {
      const piece = `${i} `.repeat(7) + (i % 3 === 0 ? '\n' : '');
      expected += piece;
      src.write(piece);
    }
    src.end();
    await new Promise((r) => src.once('end', r));
    await log.close();
    expect(readFileSync(file, 'utf8')).toBe(expected.endsWith('\n') ? expected : `${expected}\n`);
  });
});
