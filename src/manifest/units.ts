/**
 * Durations and sizes as people write them in tend.yaml and on the command line.
 * Both parsers throw only `UnitError`, so callers can catch exactly that and show its message.
 */

/** The one error `parseDuration` and `parseSize` throw; the message says what was expected. */
export class UnitError extends RangeError {
  override name = 'UnitError';
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;
const DURATION_HINT =
  'expected a number followed by a unit (ms, s, m, h, d), e.g. 100ms, 10s, 5m, 1h or 1m30s';

/**
 * Milliseconds from `100ms`, `10s`, `5m`, `1h`, `1d` or a compound such as `1m30s` (Go's order-free rule).
 * Fractions are allowed (`1.5s`) and rounded to whole milliseconds. A bare `0` is accepted; any other bare
 * number is refused because `timeout: 10` is ambiguous (seconds? milliseconds?).
 */
export function parseDuration(input: string): number {
  if (typeof input !== 'string') throw new UnitError(`invalid duration ${show(input)}: ${DURATION_HINT}`);
  const s = input.trim();
  if (s === '0') return 0;
  if (/^\d+(\.\d+)?$/.test(s)) {
    throw new UnitError(`invalid duration "${input}": add a unit, e.g. "${s}s" or "${s}ms"`);
  }
  if (s === '') throw new UnitError(`invalid duration "": ${DURATION_HINT}`);
  let total = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < s.length) {
    const at = DURATION_PART.lastIndex;
    const m = DURATION_PART.exec(s);
    if (!m || m.index !== at) throw new UnitError(`invalid duration "${input}": ${DURATION_HINT}`);
    total += Number(m[1]) * DURATION_UNITS[m[2]];
  }
  const ms = Math.round(total);
  if (!Number.isSafeInteger(ms)) throw new UnitError(`invalid duration "${input}": too large`);
  return ms;
}

/** The shortest compound form, e.g. 90_000 → `1m30s`, 0 → `0s`; `parseDuration` reads it back exactly. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return String(ms);
  let rest = Math.round(ms);
  if (rest === 0) return '0s';
  let out = '';
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  kib: 1024,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};
const SIZE_HINT =
  'expected a number followed by a unit (B, KB, MB, GB, TB; binary, 1KB = 1024B), e.g. 512B or 10MB';

/**
 * Bytes from `512B`, `10KB`, `50MB`, `1GB`, `1TB`. Units are binary (1KB = 1024 bytes, as log rotation
 * settings conventionally mean) and case-insensitive; `KiB`/`MiB`/`GiB`/`TiB` are synonyms. Fractions are
 * rounded to whole bytes. A bare `0` is accepted; any other bare number must say its unit.
 */
export function parseSize(input: string): number {
  if (typeof input !== 'string') throw new UnitError(`invalid size ${show(input)}: ${SIZE_HINT}`);
  const s = input.trim();
  if (s === '0') return 0;
  if (/^\d+(\.\d+)?$/.test(s))
    throw new UnitError(`invalid size "${input}": add a unit, e.g. "${s}MB" or "${s}B"`);
  const m = /^(\d+(?:\.\d+)?)([a-zA-Z]+)$/.exec(s);
  const unit = m ? SIZE_UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new UnitError(`invalid size "${input}": ${SIZE_HINT}`);
  const bytes = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw new UnitError(`invalid size "${input}": too large`);
  return bytes;
}

/** The largest unit that divides exactly, e.g. 10_485_760 → `10MB`; `parseSize` reads it back exactly. */
export function formatSize(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes < 0) return String(bytes);
  for (const [unit, size] of [
    ['TB', 1024 ** 4],
    ['GB', 1024 ** 3],
    ['MB', 1024 ** 2],
    ['KB', 1024],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}

function show(v: unknown): string {
  return `(a ${v === null ? 'null' : typeof v}, not a string)`;
}
