/**
 * V8 settings for a long-running `tend up` / `tend run`, applied before any other module of tend loads (this
 * module is the entry point's first import, and ESM evaluates imports in order).
 *
 * The young generation starts at 1 MiB a half and doubles whenever a scavenge finds most of it alive, which
 * start-up does (the plan, the modules, one state machine a service): with 100 services it had grown to 16 MiB
 * a half, held until V8's memory reducer ran ~40 s later. A supervisor allocates little once up, so the nursery
 * stays at its start size (bench/RESULTS.md, F8: −4.5 MiB at rest, −17 to −21 MiB in the first 40 s).
 * `--semi-space-growth-factor` is a heuristic V8 reads each time it decides to grow, set here before tend has
 * allocated anything of its own.
 *
 * Not kept: switching TurboFan off during start-up and on again (−8 MiB with 100 services). Node documents
 * flags changed after the VM started as possibly "unpredictable … including crashes"; a supervisor running as
 * PID 1 does not take that risk for 8 MiB. Bundling the build, or Node 22's compile cache, are the ways left.
 *
 * Client commands (`tend status`, …) live for milliseconds and keep V8's defaults. TEND_V8_DEFAULTS=1 turns
 * this off (to compare).
 */
import { setFlagsFromString } from 'node:v8';

const command = process.argv[2];
if ((command === 'up' || command === 'run') && process.env.TEND_V8_DEFAULTS !== '1') {
  setFlagsFromString('--semi-space-growth-factor=1');
}
