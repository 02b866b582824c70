// Experiment only (bench/idle/breakdown.mjs): prom-client's default metrics sample the event loop delay
// with perf_hooks.monitorEventLoopDelay({ resolution: 10 }), a timer that wakes the process every 10 ms.
// This preload makes that timer fire once a second instead, to measure what it costs an idle tend.
import perfHooks from 'node:perf_hooks';

const original = perfHooks.monitorEventLoopDelay;
perfHooks.monitorEventLoopDelay = (opts = {}) => original({ ...opts, resolution: 1000 });
