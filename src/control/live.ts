/**
 * `tend up` in a terminal: while the stack starts, a compact table (service, state, reason) stays drawn below
 * the output and is redrawn in place, like `docker compose up`; once every service has settled (or after a
 * while) it is printed one last time and tend goes back to plain log streaming. Piped output or CI=true gets
 * plain lines only: this attachment then does nothing.
 *
 * Other modules write to the same stdout (the service echo, tend's event lines). Rather than asking all of them
 * to cooperate, the view wraps `out.write` for the start-up phase: each write erases the table, lets the text
 * through, and draws the table again, in one write so that backpressure and callbacks behave as before. Event
 * lines about service states are left out meanwhile, since the table shows exactly that.
 */
import type { AppState, ServiceState } from '../events/index.js';
import type { Module, Runtime } from '../runtime/index.js';
import {
  hasFailed,
  isReady,
  isServing,
  isSettled,
  isSteady,
  type ServiceStatus,
} from '../supervisor/index.js';
import { countingDown, samplesOf } from './samples.js';
import { stageBefore, whatItWaitsFor } from './waiting.js';

const SERVICE_STATES: readonly ServiceState[] = [
  'waiting',
  'starting',
  'running',
  'ready',
  'unhealthy',
  'backoff',
  'stopping',
  'stopped',
  'exited',
  'failed',
];

/** Longest the table stays up when something never settles (e.g. a service waiting for config). */
const MAX_LIVE_MS = 120_000;
const TICK_MS = 250;
/**
 * A service without a readiness probe is ready the moment it runs, crash-looping or not; the table calls it
 * settled only once it has run this long (or restarted, which `failureStreak` shows). One that crashes at start
 * does so within it, and gets no ✔.
 */
const SETTLE_MS = 1000;
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

type Write = NodeJS.WritableStream['write'];

export interface LiveViewOptions {
  /** draw even when `out` is not a TTY (tests) */
  force?: boolean;
  /** terminal width when `out` does not say (default 80) */
  columns?: number;
  maxLiveMs?: number;
}

export function isPlainOutput(out: NodeJS.WritableStream, env: NodeJS.ProcessEnv): boolean {
  const ci = (env.CI ?? '').toLowerCase();
  return (
    (out as { isTTY?: boolean }).isTTY !== true ||
    (ci !== '' && ci !== 'false' && ci !== '0') ||
    env.TERM === 'dumb'
  );
}

export function liveViewModule(opts: LiveViewOptions = {}): Module {
  return { name: 'live view', attach: (rt) => attachLiveView(rt, opts) };
}

async function attachLiveView(rt: Runtime, opts: LiveViewOptions) {
  if (!opts.force && isPlainOutput(rt.out, rt.env)) return undefined;
  const view = startLiveView(rt, opts);
  return { close: async () => view.end() };
}

/** The app states of the start-up: the table stays through them (stages included), whatever the services do. */
const STARTING_UP: ReadonlySet<AppState> = new Set(['BOOT', 'FIRSTBOOT', 'UPGRADING', 'WARMUP']);
/** The app is going down (or never came up): the start-up view ends at once, before any service stops. */
const GOING_DOWN: ReadonlySet<AppState> = new Set(['STOPPING', 'STOPPED', 'ERROR']);

export function startLiveView(rt: Runtime, opts: LiveViewOptions = {}): { end(): void } {
  const out = rt.out as NodeJS.WritableStream & { columns?: number; on?: NodeJS.WriteStream['on'] };
  const color = !rt.env.NO_COLOR;
  const paint = (code: number, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const original: Write = out.write;
  const write = (text: string, cb?: (err?: Error | null) => void) =>
    (original as (s: string, cb?: (err?: Error | null) => void) => boolean).call(out, text, cb);
  const t0 = Date.now();
  const samples = samplesOf(rt);
  let drawn = 0;
  let frame = 0;
  let ended = false;

  // a pty that does not know its size says 0
  const columns = () => Math.max(20, out.columns || opts.columns || 80);

  /** Not started yet because a start-up stage runs first. */
  const beforeStage = (st: ServiceStatus) => stageBefore(rt.appState(), st);

  const symbol = (st: ServiceStatus) => {
    if (isSteady(st)) return paint(32, '✔');
    // up right now, but between two crashes: not a ✔
    if (isReady(st)) return paint(33, '!');
    if (hasFailed(st, st.job)) return paint(31, '✖');
    if (st.state === 'backoff' || st.state === 'unhealthy') return paint(33, '!');
    if ((st.state === 'stopped' || st.state === 'stopping' || st.state === 'exited') && !beforeStage(st))
      return paint(90, '·');
    return paint(36, SPINNER[frame % SPINNER.length]);
  };

  const detail = (st: ServiceStatus, gates: Array<{ id: string; reason: string }>) => {
    const plan = rt.stack.runner(st.name)?.plan;
    const waits =
      plan &&
      whatItWaitsFor(
        rt.appState(),
        plan,
        st,
        gates,
        rt.control.probeAnswer?.(st.name) ?? rt.control.health(st.name),
      );
    if (waits) return waits;
    if (st.pid && isServing(st) && st.state !== 'starting') {
      const exit = st.lastExit ? (st.lastExit.signal ?? `exit code ${st.lastExit.code}`) : undefined;
      const looping = st.failureStreak > 0 && exit ? ` · restarted after ${exit}` : '';
      return `pid ${st.pid}${looping}`;
    }
    // "restarting in 2s" counts down with each redraw
    return countingDown(st.reason, samples.backoffUntil(st.name)) ?? '';
  };

  // Lines are cut to the terminal width before colouring: a wrapped line would break the erase arithmetic.
  const clip = (text: string, room: number) =>
    text.length <= room ? text : room <= 1 ? '' : `${text.slice(0, room - 1)}…`;

  const lines = (final: boolean): string[] => {
    const services = rt.stack
      .names()
      .map((n) => ({ status: rt.stack.runner(n)?.status(), gates: rt.stack.gates(n) }))
      .filter((s) => s.status && !s.status.job);
    const width = Math.max(0, ...services.map((s) => s.status!.name.length));
    // the same rule as `tend status` and /readyz: ready is `isReady`
    const ready = services.filter((s) => isReady(s.status!)).length;
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    const max = columns() - 1;
    const app = rt.appState();
    const head = final
      ? `${rt.plan.name}: ${ready}/${services.length} ready after ${secs}s${GOING_DOWN.has(app) ? ` (app ${app})` : ''}`
      : `${rt.plan.name}: ${app} · ${ready}/${services.length} ready · ${secs}s`;
    const rows = services.map(({ status: s, gates }) => {
      const st = s!;
      const left = `${st.name.padEnd(width)}  ${st.state.padEnd(9)}  `;
      // ' x ' + left takes 3 + left.length columns
      const rest = clip(detail(st, gates), max - 3 - left.length);
      return ` ${symbol(st)} ${clip(left, max - 3)}${rest ? paint(90, rest) : ''}`.trimEnd();
    });
    return [paint(1, clip(head, max)), ...rows];
  };

  const footer = () => {
    const ls = lines(false);
    drawn = ls.length;
    return `${ls.join('\n')}\n`;
  };
  // Cursor up to the table's first line, then clear to the end of the screen.
  const erase = () => (drawn > 0 ? `\x1b[${drawn}F\x1b[J` : '');

  const redraw = () => {
    if (ended) return;
    write(erase() + footer());
  };

  const intercepted = function (this: unknown, chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
    const callback = (typeof encoding === 'function' ? encoding : cb) as
      | ((err?: Error | null) => void)
      | undefined;
    const text =
      typeof chunk === 'string'
        ? chunk
        : Buffer.from(chunk as Uint8Array).toString(
            typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8',
          );
    const kept = withoutStateLines(text);
    if (kept === '') {
      if (callback) queueMicrotask(() => callback(null));
      return true;
    }
    // the table must start on a line of its own
    const body = kept.endsWith('\n') ? kept : `${kept}\n`;
    return write(erase() + body + footer(), callback);
  } as Write;

  /**
   * tend's lines about a service's state (`tend   | web running (pid 42)`, a crash line), which the table shows
   * meanwhile; the echo writes them in one chunk with the services' lines, so they are taken out line by line.
   */
  const STATE_WORDS = new Set<string>([...SERVICE_STATES, 'killed']);
  const withoutStateLines = (text: string): string => {
    if (!text.includes('tend')) return text;
    const services = new Set(rt.stack.names().filter((n) => !rt.stack.runner(n)?.plan.isJob));
    return text
      .split(/(?<=\n)/)
      .filter((line) => {
        const m = /^tend +\| (\S+) (\S+)/.exec(line.replace(/\x1b\[[0-9;]*m/g, ''));
        return !(m && services.has(m[1]) && STATE_WORDS.has(m[2]));
      })
      .join('');
  };

  // Settled once the start-up stages are over and every service is steady or ended for good.
  const settled = () =>
    !STARTING_UP.has(rt.appState()) &&
    rt.stack.names().every((n) => {
      const r = rt.stack.runner(n);
      const s = r?.status();
      if (!r || !s || s.job) return true;
      if (isReady(s) && !r.plan.ready && (s.uptimeMs ?? 0) < SETTLE_MS) return false;
      return isSettled(s);
    });

  const maxMs = opts.maxLiveMs ?? MAX_LIVE_MS;
  const tick = setInterval(() => {
    frame++;
    if (settled() || Date.now() - t0 > maxMs) end();
    else redraw();
  }, TICK_MS);
  tick.unref();

  let pending = false;
  const unsubscribe = rt.bus.subscribe((e) => {
    if (ended) return;
    // the app is going down: the table ends now, as it was, before any service stops (never after STOPPED)
    if (e.kind === 'app' && GOING_DOWN.has(e.to)) return end();
    if ((e.kind !== 'service' && e.kind !== 'app') || pending) return;
    pending = true;
    setImmediate(() => {
      pending = false;
      if (settled()) end();
      else redraw();
    });
  });

  const onResize = () => redraw();
  out.on?.('resize', onResize);

  function end() {
    if (ended) return;
    ended = true;
    clearInterval(tick);
    unsubscribe();
    (out as { off?: (e: string, l: () => void) => void }).off?.('resize', onResize);
    out.write = original;
    write(`${erase()}${lines(true).join('\n')}\n`);
    drawn = 0;
  }

  out.write = intercepted;
  redraw();
  return { end };
}
