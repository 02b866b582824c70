// Small helpers shared by the workloads: flags, statistics, formatting, the machine's description.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

/** Resolves after ms; with { unref: true } the timer does not keep the process alive. */
export const sleep = (ms, { unref = false } = {}) =>
  new Promise((r) => {
    const t = setTimeout(r, ms);
    if (unref) t.unref();
  });

/** `--name value` and `--flag` from argv; `flag('quick')` is true when `--quick` was given. */
export function parseArgs(argv = process.argv.slice(2)) {
  return {
    get(name, def) {
      const i = argv.indexOf(`--${name}`);
      return i >= 0 && i + 1 < argv.length ? argv[i + 1] : def;
    },
    flag(name) {
      return argv.includes(`--${name}`);
    },
    /** `--only tend,runit` → ['tend', 'runit'], else def */
    list(name, def) {
      const v = this.get(name);
      return v ? v.split(',').filter(Boolean) : def;
    },
  };
}

/** Nearest-rank percentile of a list of numbers (undefined for an empty list). */
export function percentile(xs, p) {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const median = (xs) => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** A number for a table: 3 significant digits, thousands separated; '–' for nothing. */
export function fmt(x, digits = 3) {
  if (x === undefined || x === null || Number.isNaN(x)) return '–';
  if (x === 0) return '0';
  const abs = Math.abs(x);
  if (abs >= 10 ** digits) return Math.round(x).toLocaleString('en-US');
  return Number(x.toPrecision(digits)).toLocaleString('en-US', { maximumFractionDigits: 6 });
}

/** "2.1x" = value / tend's value; '–' when either is missing. */
export function ratio(value, tendValue) {
  if (!Number.isFinite(value) || !Number.isFinite(tendValue) || tendValue === 0) return '–';
  return `${(value / tendValue).toFixed(2)}x`;
}

/** Progress on stderr, so stdout stays the result. */
const t0 = Date.now();
export const say = (text) =>
  process.stderr.write(`bench [${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${text}\n`);

/** Waits until `test()` returns a truthy value (returned), polling every `everyMs`; undefined at the deadline. */
export async function waitFor(test, { timeoutMs, everyMs = 50 }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await test();
    if (v) return v;
    if (Date.now() >= deadline) return undefined;
    await sleep(everyMs);
  }
}

/** One line describing where the numbers come from. */
export function machine() {
  const c = cpus();
  let os = process.platform;
  if (existsSync('/etc/os-release')) {
    const m = readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]*)"?/m);
    if (m) os = m[1];
  }
  let kernel = '';
  try {
    kernel = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
  } catch {}
  const model = (c[0]?.model ?? 'cpu').trim();
  return {
    cpus: c.length,
    model,
    memGiB: Math.round(totalmem() / 2 ** 30),
    os,
    kernel,
    node: process.version,
    load: loadavg().map((x) => x.toFixed(2)),
    text: `${c.length} × ${model}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, ${os}, Linux ${kernel}, Node ${process.version}`,
  };
}

/** Version of a program from `cmd args`, or undefined. */
export function versionOf(cmd, args, pattern = /(\d+\.\d+(\.\d+)?)/) {
  try {
    const out = execFileSync(cmd, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 10_000,
    });
    return out.match(pattern)?.[1];
  } catch (err) {
    const text = `${err.stdout ?? ''}${err.stderr ?? ''}`;
    return text.match(pattern)?.[1];
  }
}
