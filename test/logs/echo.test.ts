import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createConsoleLines } from '../../src/events/index.js';
import { colourOf, createEcho, createServiceLog } from '../../src/logs/index.js';
import { stdoutDeliver } from '../../src/notify/stdout.js';
import { closed, createScratch, fileLines, plan, rawText } from './helpers.js';

const scratch = createScratch();
afterEach(() => scratch.cleanup());

function collector() {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => {
    text += c.toString();
  });
  return { out, text: () => text };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('echo', () => {
  it('prefixes lines with the service name, aligned on the longest name seen', async () => {
    const { out, text } = collector();
    const echo = createEcho(out, { color: false });
    echo.write('web', 'stdout', 'one');
    echo.write('postgres', 'stderr', 'two');
    echo.write('web', 'stdout', 'three');
    await tick();
    await tick();
    expect(text()).toBe('web | one\npostgres | two\nweb      | three\n');
    expect(echo.dropped()).toBe(0);
  });

  it('colours the prefix per service when asked, and not by default on a pipe', async () => {
    const c = collector();
    const echo = createEcho(c.out, { color: true });
    echo.write('a', 'stdout', 'x');
    echo.write('b', 'stdout', 'y');
    await tick();
    await tick();
    const [a, b] = c.text().split('\n');
    expect(a).toMatch(/^\x1b\[\d+ma \|\x1b\[0m x$/);
    expect(b).toMatch(/^\x1b\[\d+mb \|\x1b\[0m y$/);
    expect(a.slice(0, 5)).not.toBe(b.slice(0, 5));

    const plain = collector();
    createEcho(plain.out).write('a', 'stdout', 'x');
    await tick();
    await tick();
    expect(plain.text()).toBe('a | x\n');
  });

  it('echoes only with plan.stdout', async () => {
    const { out, text } = collector();
    const echo = createEcho(out, { color: false });
    createServiceLog({ service: 'quiet', plan: plan({ stdout: false }), echo }).note('hidden');
    createServiceLog({ service: 'loud', plan: plan({ stdout: true }), echo }).note('shown');
    await tick();
    await tick();
    expect(text()).toBe('loud | shown\n');
  });

  it('drops and counts lines while tend stdout is a pipe nobody reads, memory stays bounded, the file is complete', async () => {
    // a child that never reads its stdin stands for a full stdout pipe
    const reader = scratch.track(spawn('sleep', ['600'], { stdio: ['pipe', 'ignore', 'ignore'] }));
    const pipe = reader.stdin as Socket;
    const maxQueued = 256 * 1024;
    const echo = createEcho(pipe, { color: false, maxQueued });
    const file = join(scratch.dir(), 'web.log');
    const log = createServiceLog({ service: 'web', plan: plan({ file, stdout: true }), echo });
    const child = scratch.node(
      `let i = 0; const pad = 'x'.repeat(90); (function more() { while (i < 200000) if (!process.stdout.write('line ' + i++ + ' ' + pad + '\\n')) return process.stdout.once('drain', more); })();`,
    );
    let maxBuffered = 0;
    const probe = setInterval(() => {
      maxBuffered = Math.max(maxBuffered, pipe.writableLength);
    }, 5);
    log.attach(child.stdout!, 'stdout');
    await closed(child);
    clearInterval(probe);
    maxBuffered = Math.max(maxBuffered, pipe.writableLength);
    await log.flush();
    const s = log.stats();
    expect(s.echoDropped).toBeGreaterThan(100_000);
    expect(echo.dropped()).toBe(s.echoDropped);
    // what waits for the pipe: at most one batch beyond the queue limit (bytes vs UTF-16 units: same for ASCII)
    expect(maxBuffered).toBeLessThan(maxQueued + 128 * 1024);
    expect(s.dropped).toBe(0);
    const lines = fileLines(file);
    expect(lines.length).toBe(200_000);
    expect(rawText(lines[199_999]).startsWith('line 199999 ')).toBe(true);
    await log.close();
    // the reader going away is an EPIPE for the echo, not a crash
    reader.kill('SIGKILL');
    await closed(reader);
    for (let i = 0; i < 10; i++) echo.write('web', 'stdout', 'into the void');
    await tick();
    await new Promise((r) => setTimeout(r, 50));
  });

  it('says how many lines were not echoed once the pipe drains', async () => {
    const out = new PassThrough({ highWaterMark: 1024 });
    const echo = createEcho(out, { color: false, maxQueued: 4096 });
    for (let i = 0; i < 2000; i++) echo.write('web', 'stdout', `line ${i} ${'y'.repeat(40)}`);
    await tick();
    expect(echo.dropped()).toBeGreaterThan(0);
    const dropped = echo.dropped();
    let text = '';
    out.on('data', (c: Buffer) => {
      text += c.toString();
    });
    await new Promise((r) => setTimeout(r, 50));
    const lines = text.trimEnd().split('\n');
    const marker = lines.filter((l) => l.includes('not echoed'));
    expect(marker).toEqual([
      `tend | ${dropped} lines were not echoed (stdout too slow); log files are complete`,
    ]);
    // what was echoed is a prefix of what was written, in order
    const echoed = lines.filter((l) => !l.includes('not echoed'));
    expect(echoed.every((l, i) => new RegExp(`^web +\\| line ${i} `).test(l))).toBe(true);
    expect(echoed.length + dropped).toBe(2000);
  });
});

describe('a service printing terminal escapes', () => {
  it('cannot draw on tend’s terminal: control characters are shown escaped, the log file keeps the bytes', async () => {
    const { out, text } = collector();
    const echo = createEcho(out, { color: false });
    const file = join(scratch.dir(), 'web.log');
    const log = createServiceLog({ service: 'web', plan: plan({ file, stdout: true, format: 'raw' }), echo });
    // a window title, a screen clear, and a line erased to print a fake line of tend's own
    const evil = "printf '\\033]0;owned\\007\\033[2Jcleared\\r\\033[Ktend | web ready\\ttab\\302\\233x\\n'";
    const child = spawn('sh', ['-c', evil], { stdio: ['ignore', 'pipe', 'pipe'] });
    log.attach(child.stdout!, 'stdout');
    await closed(child);
    await log.close();
    await tick();
    expect(text()).toBe('web | \\x1b]0;owned\\x07\\x1b[2Jcleared\\r\\x1b[Ktend | web ready\ttab\\u009bx\n');
    expect(fileLines(file).map(rawText)).toEqual([
      '\x1b]0;owned\x07\x1b[2Jcleared\r\x1b[Ktend | web ready\ttab\u009bx',
    ]);
  });
});

describe('the echo with the configured names (tend up)', () => {
  it('pads every prefix to the longest configured name from the first line, tend’s own lines too', async () => {
    const { out, text } = collector();
    const echo = createEcho(out, { color: false, names: ['web', 'web-frontend', 'db'] });
    echo.write('web', 'stdout', 'one');
    echo.tend('web running (pid 42)');
    echo.write('web-frontend', 'stdout', 'two');
    echo.write('db', 'stdout', 'three');
    await tick();
    await tick();
    expect(text()).toBe(
      [
        'web          | one',
        'tend         | web running (pid 42)',
        'web-frontend | two',
        'db           | three',
        '',
      ].join('\n'),
    );
  });

  it('gives each service the colour of its place in the list whatever prints first, and dims tend’s lines', async () => {
    const { out, text } = collector();
    const echo = createEcho(out, { color: true, names: ['a', 'b'] });
    echo.write('b', 'stdout', 'y');
    echo.write('a', 'stdout', 'x');
    echo.tend('a ready');
    await tick();
    await tick();
    const [b, a, t] = text().split('\n');
    expect(b).toBe(`\x1b[${colourOf(1)}mb    |\x1b[0m y`);
    expect(a).toBe(`\x1b[${colourOf(0)}ma    |\x1b[0m x`);
    expect(t).toBe('\x1b[2mtend | a ready\x1b[0m');
  });
});

describe('tend’s console lines', () => {
  const base = { time: '', seq: 0, kind: 'service' as const, service: 'worker' };
  it('tells a crash and its restart in one line, not one per state with the stale reason repeated', () => {
    const line = createConsoleLines();
    const said = [
      line({ ...base, from: 'starting', to: 'running', pid: 10, restarts: 0 }),
      // crash, restarted at once
      line({
        ...base,
        from: 'running',
        to: 'starting',
        pid: 10,
        exitCode: 1,
        signal: null,
        restarts: 0,
        reason: 'restarted after exit code 1',
      }),
      line({
        ...base,
        from: 'starting',
        to: 'running',
        pid: 11,
        restarts: 1,
        reason: 'restarted after exit code 1',
      }),
      // crash, backoff
      line({
        ...base,
        from: 'running',
        to: 'backoff',
        pid: 11,
        exitCode: 1,
        signal: null,
        restarts: 1,
        reason: 'exit code 1; restarting in 350ms',
      }),
      line({
        ...base,
        from: 'backoff',
        to: 'starting',
        restarts: 1,
        reason: 'exit code 1; restarting in 350ms',
      }),
      line({
        ...base,
        from: 'starting',
        to: 'running',
        pid: 12,
        restarts: 2,
        reason: 'exit code 1; restarting in 350ms',
      }),
      // killed after a failed health check
      line({
        ...base,
        from: 'stopping',
        to: 'backoff',
        pid: 12,
        exitCode: null,
        signal: 'SIGTERM',
        restarts: 2,
        reason: 'health check failed: HTTP 500; restarting in 1s',
      }),
      line({
        ...base,
        from: 'backoff',
        to: 'starting',
        restarts: 2,
        reason: 'health check failed: HTTP 500; restarting in 1s',
      }),
      line({
        ...base,
        from: 'starting',
        to: 'running',
        pid: 13,
        restarts: 3,
        reason: 'health check failed: HTTP 500; restarting in 1s',
      }),
      line({ ...base, from: 'running', to: 'ready', pid: 13, restarts: 3 }),
      line({ ...base, from: 'ready', to: 'stopping', pid: 13, restarts: 3, reason: 'received SIGTERM' }),
    ].filter((l) => l !== undefined);
    expect(said).toEqual([
      'worker running (pid 10)',
      'worker exited 1 · restart 1 now',
      'worker exited 1 · restart 2 in 350ms',
      'worker killed by SIGTERM (health check failed: HTTP 500) · restart 3 in 1s',
      'worker ready',
      'worker stopping: received SIGTERM',
    ]);
  });

  it('the stdout notify sink prints in the same console format', async () => {
    const { out, text } = collector();
    const echo = createEcho(out, { color: false, names: ['worker'] });
    const sink = stdoutDeliver(out, undefined, (t) => echo.tendLine(t));
    await sink.deliver(
      [
        {
          ...base,
          from: 'running',
          to: 'backoff',
          pid: 11,
          exitCode: 1,
          signal: null,
          restarts: 1,
          reason: 'exit code 1; restarting in 350ms',
        },
        { ...base, from: 'backoff', to: 'starting', restarts: 1, reason: 'exit code 1; restarting in 350ms' },
        { time: '', seq: 0, kind: 'health', service: 'worker', check: 'ready', ok: false, output: 'refused' },
      ],
      new AbortController().signal,
    );
    expect(text()).toBe(
      'tend   | worker exited 1 · restart 2 in 350ms\ntend   | worker: ready check failed: refused\n',
    );
  });
});

describe('tend lines written straight to stdout', () => {
  it('line up with the echo once it adopts them, dimmed on a TTY, whoever wrote them', async () => {
    const { out, text } = collector();
    const echo = createEcho(out, { color: false, names: ['web-frontend'] });
    echo.adoptTendLines();
    out.write('tend | dashboard, API and metrics on http://127.0.0.1:7070/\n');
    out.write('tend | reload refused:\ntend |   tend.yaml:3: bad\nweb-frontend | as is\n');
    expect(text()).toBe(
      [
        'tend         | dashboard, API and metrics on http://127.0.0.1:7070/',
        'tend         | reload refused:',
        'tend         |   tend.yaml:3: bad',
        'web-frontend | as is',
        '',
      ].join('\n'),
    );
    const tty = collector();
    const dim = createEcho(tty.out, { color: true, names: ['web-frontend'] });
    dim.adoptTendLines();
    tty.out.write('tend | up\n');
    // after the live view's erase, too
    tty.out.write('\x1b[3F\x1b[Jtend | down\n');
    expect(tty.text()).toBe(
      '\x1b[2mtend         | up\x1b[0m\n\x1b[3F\x1b[J\x1b[2mtend         | down\x1b[0m\n',
    );
  });
});
