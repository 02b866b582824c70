/** The terminal live view of `tend up`: a table redrawn in place while the stack starts, then plain lines. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { type Running, startUp } from '../../src/app/index.js';
import { isPlainOutput, liveViewModule } from '../../src/control/index.js';
import { healthModule } from '../../src/health/index.js';
import { servicePlan, sh, stackPlan } from '../helpers/plan.js';
import { waitFor } from '../helpers/wait.js';

/** What a terminal shows after `text`: handles newlines, CPL (ESC[nF), ED (ESC[J) and drops colours. */
function screen(text: string): string[] {
  const lines: string[] = [''];
  let row = 0;
  let col = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\x1b') {
      const m = /^\x1b\[(\d*)([A-Za-z])/.exec(text.slice(i));
      if (!m) throw new Error(`unexpected escape at ${i}`);
      i += m[0].length - 1;
      if (m[2] === 'F') {
        row = Math.max(0, row - Number(m[1] || 1));
        col = 0;
      } else if (m[2] === 'J') {
        lines.length = row + 1;
        lines[row] = lines[row].slice(0, col);
      } else if (m[2] !== 'm') throw new Error(`unexpected escape ${m[0]}`);
      continue;
    }
    if (ch === '\n') {
      row++;
      col = 0;
      if (lines.length <= row) lines.push('');
      continue;
    }
    if (ch === '\r') {
      col = 0;
      continue;
    }
    const line = lines[row].padEnd(col);
    lines[row] = line.slice(0, col) + ch + line.slice(col + 1);
    col++;
  }
  return lines.filter((l, i) => l !== '' || i < lines.length - 1);
}

class FakeTty extends Writable {
  isTTY = true;
  columns = 80;
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
    this.text += chunk.toString();
    cb();
  }
}

const running: Running[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.shutdown(0, 'test over');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('live view', () => {
  it('draws a table while services start, then leaves the final table and plain log lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-live-'));
    dirs.push(dir);
    const out = new FakeTty();
    const plan = stackPlan(dir, [
      servicePlan('alpha', 'sleep 0.3; echo hello from alpha; exec sleep 30', { logs: { stdout: true } }),
      servicePlan('beta', 'exec sleep 30', { after: ['alpha'], logs: { stdout: true } }),
    ]);
    const rt = await startUp({
      plan,
      env: { ...process.env, CI: '', NO_COLOR: '1' },
      out,
      modules: [liveViewModule()],
    });
    running.push(rt);
    await waitFor(() => /2\/2 ready after/.test(out.text), { what: 'final table', timeoutMs: 15_000 });
    await waitFor(() => out.text.includes('hello from alpha'), { what: 'log line' });
    // redrawn in place: the cursor went back up over the table
    expect(out.text).toMatch(/\x1b\[3F\x1b\[J/);

    const shown = screen(out.text);
    const final = shown.findIndex((l) => /^test: 2\/2 ready after [\d.]+s$/.test(l));
    expect(final).toBeGreaterThanOrEqual(0);
    expect(shown[final + 1]).toMatch(/^ ✔ alpha\s+running\s+pid \d+$/);
    expect(shown[final + 2]).toMatch(/^ ✔ beta\s+running\s+pid \d+$/);
    // only the final table is left on screen, not the intermediate ones
    expect(shown.filter((l) => / ready · /.test(l))).toEqual([]);
    expect(shown.filter((l) => /hello from alpha/.test(l))).toHaveLength(1);
    // the table replaced the per-state event lines while it was up
    expect(shown.some((l) => /^tend +\| alpha (starting|running)/.test(l))).toBe(false);

    // after the start-up phase, writes go straight through
    const before = out.text.length;
    out.write('plain line\n');
    expect(out.text.slice(before)).toBe('plain line\n');
  });

  async function up(plan: ReturnType<typeof stackPlan>, out: FakeTty) {
    const rt = await startUp({
      plan,
      env: { ...process.env, CI: '', NO_COLOR: '1' },
      out,
      modules: [liveViewModule()],
    });
    running.push(rt);
    return rt;
  }
  const tmp = () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-live-'));
    dirs.push(dir);
    return dir;
  };
  const finalTable = (out: FakeTty) => {
    const shown = screen(out.text);
    const at = shown.findIndex((l) => / ready after [\d.]+s/.test(l));
    return at < 0 ? [] : shown.slice(at, at + 1 + (shown.length - at - 1));
  };

  it('gives no ✔ to a crash-looping service: the table waits until it settles, as failed', async () => {
    const dir = tmp();
    const out = new FakeTty();
    const ok = (name: string) => servicePlan(name, 'exec sleep 30');
    const plan = stackPlan(dir, [
      ok('a'),
      ok('b'),
      ok('c'),
      servicePlan('loop', 'sleep 0.2; exit 1', {
        restart: { backoff: { initialMs: 50, maxMs: 100 }, maxFailures: 4, windowMs: 60_000 },
      }),
    ]);
    const rt = await up(plan, out);
    await waitFor(() => / ready after /.test(out.text), { what: 'final table', timeoutMs: 20_000 });
    const table = finalTable(out);
    expect(table[0]).toMatch(/^test: 3\/4 ready after [\d.]+s$/);
    expect(table.find((l) => / loop /.test(l))).toMatch(/^ ✖ loop\s+failed\s+4 failures/);
    // and `tend status` agrees: loop is not ready
    expect(rt.stack.status().find((s) => s.name === 'loop')?.state).toBe('failed');
    expect(rt.stack.allReady()).toBe(false);
  });

  it('stays up through the start-up stages, saying what the services wait for', async () => {
    const dir = tmp();
    const out = new FakeTty();
    const plan = stackPlan(dir, [servicePlan('web', 'exec sleep 30')], {
      stages: { boot: { command: sh('sleep 0.5'), timeoutMs: 10_000 } },
    });
    await up(plan, out);
    await waitFor(() => / ready after /.test(out.text), { what: 'final table', timeoutMs: 15_000 });
    expect(out.text).toMatch(/web\s+stopped\s+starts after the boot stage/);
    expect(out.text).not.toMatch(/0\/1 ready after/);
    expect(finalTable(out)[0]).toMatch(/^test: 1\/1 ready after [\d.]+s$/);
  });

  it('says what a service waits for: its readiness probe, the probe’s last answer, elapsed/timeout', async () => {
    const dir = tmp();
    const out = new FakeTty();
    const plan = stackPlan(dir, [
      servicePlan('web', 'exec sleep 30', {
        ready: { probe: { kind: 'tcp', host: '127.0.0.1', port: 1 }, intervalMs: 100, timeoutMs: 60_000 },
      }),
    ]);
    const rt = await startUp({
      plan,
      env: { ...process.env, CI: '', NO_COLOR: '1' },
      out,
      modules: [healthModule(), liveViewModule()],
    });
    running.push(rt);
    // the elapsed time counts up with each redraw
    await waitFor(
      () => /web\s+running\s+waiting for tcp 127\.0\.0\.1:1 \(ECONNREFUSED\) [1-9]\d*s\/1m/.test(out.text),
      {
        what: 'the probe in the table',
        timeoutMs: 15_000,
      },
    );
    expect(out.text).toMatch(/web\s+running\s+waiting for tcp 127\.0\.0\.1:1 \(ECONNREFUSED\) 0s\/1m/);
  });

  it('ends when the app goes down, before STOPPED, with the services as they were', async () => {
    const dir = tmp();
    const out = new FakeTty();
    const plan = stackPlan(dir, [
      servicePlan('db', 'exec sleep 30'),
      // never ready: the table is still up when tend is asked to stop
      servicePlan('web', 'exec sleep 30', {
        ready: { probe: { kind: 'tcp', host: '127.0.0.1', port: 1 }, intervalMs: 100, timeoutMs: 60_000 },
      }),
    ]);
    const rt = await up(plan, out);
    await waitFor(() => /db\s+running\s+pid/.test(out.text), { what: 'db running in the table' });
    running.splice(running.indexOf(rt), 1);
    await rt.shutdown(0, 'test over');
    const shown = screen(out.text);
    const final = shown.findIndex((l) => / ready after /.test(l));
    const stopped = shown.findIndex((l) => /app STOPPED/.test(l));
    expect(final).toBeGreaterThanOrEqual(0);
    expect(stopped).toBeGreaterThan(final);
    expect(shown[final]).toMatch(/^test: 1\/2 ready after [\d.]+s \(app STOPPING\)$/);
    expect(shown.filter((l) => / ready after /.test(l))).toHaveLength(1);
  });

  it('stays out of the way when stdout is not a terminal or CI is set', async () => {
    const tty = new FakeTty();
    expect(isPlainOutput(tty, {})).toBe(false);
    expect(isPlainOutput(tty, { CI: 'true' })).toBe(true);
    expect(isPlainOutput(tty, { CI: '1' })).toBe(true);
    expect(isPlainOutput(tty, { CI: 'false' })).toBe(false);
    expect(isPlainOutput(tty, { TERM: 'dumb' })).toBe(true);
    const pipe = new FakeTty();
    pipe.isTTY = false;
    expect(isPlainOutput(pipe, {})).toBe(true);
  });
});
