/**
 * Real-time signals (SIGRTMIN … SIGRTMAX): their default action terminates the process, and Node has no name
 * for them, so `process.on` cannot catch them — a stray `kill -RTMIN+3` would end tend and leave its services
 * unsupervised.
 *
 * They are caught through the same libuv signal watcher `process.on` uses underneath (Node's `signal_wrap`
 * binding), not set to SIG_IGN through libc: an ignored disposition survives exec, and libuv's fork path
 * resets only signals 1–31 in the child, so every probe, hook and stage tend starts through `child_process`
 * would run with the real-time signals ignored (measured: `SigIgn: fffffffe00000000` in such a child). A
 * caught signal goes back to its default in every exec'd child, whatever spawned it.
 *
 * libc keeps the first few real-time numbers for itself (glibc 32 and 33, musl 32 to 34) and refuses a
 * handler for them: the first number that accepts one is the platform's SIGRTMIN, which names the rest.
 */
import { constants } from 'node:os';

/** The highest signal number on Linux (SIGRTMAX). */
const SIGRTMAX = 64;
/** Below this no real-time signal exists (the classic signals end at 31). */
const FIRST_RT = 32;

interface SignalHandle {
  onsignal: ((signum: number) => void) | undefined;
  start(signum: number): number;
  close(): void;
  unref(): void;
}

export interface RealtimeSignals {
  /** The platform's SIGRTMIN (34 on glibc, 35 on musl). */
  rtmin: number;
  /** Stops catching them (their default action applies again). */
  close(): void;
}

/** `SIGRTMIN+3` for 37 on glibc; the name `kill -l` and systemd use. */
export function realtimeName(signum: number, rtmin: number): string {
  if (signum === rtmin) return 'SIGRTMIN';
  if (signum === SIGRTMAX) return 'SIGRTMAX';
  const fromMin = signum - rtmin;
  const fromMax = SIGRTMAX - signum;
  return fromMin <= fromMax ? `SIGRTMIN+${fromMin}` : `SIGRTMAX-${fromMax}`;
}

/**
 * Catches every real-time signal libc lets a program handle and calls `on` with its number (and its offset
 * from SIGRTMIN) on the event loop. Answers why not where Node lacks the binding (a Node with policies on, or
 * one that removed it): then such a signal still ends tend, which the caller says once.
 */
export function catchRealtimeSignals(
  on: (signum: number, offset: number) => void,
): RealtimeSignals | { error: string } {
  if (process.platform !== 'linux') return { error: 'real-time signals are caught on Linux only' };
  let Signal: new () => SignalHandle;
  // Node's own deprecation note (DEP0111) would be printed on every start of tend: the binding is what
  // process.on uses itself, kept reachable for programs like this one.
  const quiet = process.noDeprecation;
  try {
    process.noDeprecation = true;
    const binding = (process as unknown as { binding(name: string): { Signal: typeof Signal } }).binding(
      'signal_wrap',
    );
    Signal = binding.Signal;
    if (typeof Signal !== 'function') throw new Error('no Signal in signal_wrap');
  } catch (e) {
    return { error: `this Node cannot catch real-time signals (${(e as Error).message})` };
  } finally {
    process.noDeprecation = quiet;
  }
  // a number Node knows by name is not real-time (on some platform SIGPWR or SIGSYS might sit up here)
  const named = new Set(Object.values(constants.signals));
  const handles: SignalHandle[] = [];
  let rtmin = 0;
  for (let n = FIRST_RT; n <= SIGRTMAX; n++) {
    if (named.has(n)) continue;
    const h = new Signal();
    if (h.start(n) !== 0) {
      h.close();
      continue;
    }
    if (rtmin === 0) rtmin = n;
    const base = rtmin;
    h.onsignal = (signum) => on(signum, signum - base);
    // never what keeps tend's loop alive
    h.unref();
    handles.push(h);
  }
  if (handles.length === 0) return { error: 'libc accepts no handler for real-time signals here' };
  return {
    rtmin,
    close() {
      for (const h of handles.splice(0)) h.close();
    },
  };
}
