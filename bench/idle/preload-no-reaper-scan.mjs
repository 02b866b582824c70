// Experiment only (bench/idle/breakdown.mjs): src/procs/reaper.ts runs a backstop scan every second that
// reads /proc/<pid>/stat of every child of tend. This preload stretches that one interval (the function is
// named reapNow) to 60 s, to measure what the scan costs an idle tend with many services.
const original = globalThis.setInterval;
globalThis.setInterval = (fn, ms, ...args) => original(fn, fn?.name === 'reapNow' ? 60_000 : ms, ...args);
