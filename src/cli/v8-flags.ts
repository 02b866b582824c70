/**
 * V8 settings for a long-running `tend up` / `tend run`, applied before any other module of tend loads (this
 * module is the entry point's first import, and ESM evaluates imports in order). Measured with 100 idle
 * services (bench/RESULTS.md, F8), each at rest, RSS:
 *
 * - The young generation starts at 1 MiB a half and doubles whenever a scavenge finds most of it alive, which
 *   start-up does (the plan, the modules, one state machine a service): with 100 services it had grown to 16
 *   MiB a half, held until V8's memory reducer ran ~40 s later, and left the heap larger after it (90 → 73 MiB).
 *   A supervisor allocates little once up, so the nursery stays at its start size: 73 → 68.7 MiB.
 *   `--semi-space-growth-factor` is read each time V8 decides to grow, so it can be set at run time;
 *   `--max-semi-space-size` (read once, when the heap is made) would need a re-exec of node, or a shebang flag
 *   that BusyBox's `env` (Alpine images) cannot pass.
 * - Start-up runs the same code once per service, often enough for TurboFan to compile much of it; the
 *   optimized code and the compiler's own memory stay after start-up and that code never runs hot again:
 *   67 → 59 MiB with TurboFan off until start-up is over (`startupDone`, called by `tend up` once UP or
 *   failed, or at the latest after STARTUP_OPT_OFF_MS). TurboFan is back on for what runs hot later: the log
 *   path, renders. Start-up itself does not get slower (bench/RESULTS.md, F8).
 *
 * Client commands (`tend status`, …) live for milliseconds and keep V8's defaults. TEND_V8_DEFAULTS=1 turns
 * all of this off (to compare).
 */
import { setFlagsFromString } from 'node:v8';

/** The longest TurboFan stays off when start-up does not end (a service that never becomes ready). */
const STARTUP_OPT_OFF_MS = 60_000;

const command = process.argv[2];
const tuned = (command === 'up' || command === 'run') && process.env.TEND_V8_DEFAULTS !== '1';
let optOff = false;

if (tuned) {
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--no-opt');
  optOff = true;
  setTimeout(startupDone, STARTUP_OPT_OFF_MS).unref();
}

/** Start-up is over: the optimizing compiler is back for the code that runs hot from now on. */
export function startupDone(): void {
  if (!optOff) return;
  optOff = false;
  setFlagsFromString('--opt');
}
