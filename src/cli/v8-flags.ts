/**
 * V8 settings for a long-running `tend up` / `tend run`, applied before any other module of tend loads (this
 * module is the entry point's first import, and ESM evaluates imports in order).
 *
 * V8's young generation starts at 1 MiB a half and doubles whenever a scavenge finds most of it alive, which
 * start-up does (the plan, the modules, one state machine a service): with 100 services it had grown to 16 MiB
 * a half, and an idle tend held ~21 MiB more resident memory than with the young generation left at its start
 * size (90 → 69 MiB VmRSS, bench/RESULTS.md "Idle memory"). A supervisor allocates little once up, so growing
 * the nursery buys nothing at rest. `--semi-space-growth-factor` is read each time V8 decides to grow, so it
 * can be set here at run time; `--max-semi-space-size` (read once, when the heap is made) would need a
 * re-exec of node, or a shebang flag that BusyBox's `env` (Alpine images) cannot pass.
 *
 * Client commands (`tend status`, …) live for milliseconds and keep V8's defaults. TEND_V8_DEFAULTS=1 turns
 * this off (to compare, or if a workload of many log lines per second wants the larger nursery).
 */
import { setFlagsFromString } from 'node:v8';

const command = process.argv[2];
if ((command === 'up' || command === 'run') && process.env.TEND_V8_DEFAULTS !== '1') {
  setFlagsFromString('--semi-space-growth-factor=1');
}
