/**
 * Shared pieces of tend's sprig functions: Go's reflect kinds over tend's value model, spf13/cast's
 * conversions (sprig ignores their errors: a value that does not convert becomes 0), sprig's
 * `empty` and `strval`, reflect.DeepEqual, and slice capacities (spew prints them).
 */
import { sprint } from './fmt.js';
import {
  float,
  floatValue,
  type GoFloat,
  GoInt,
  GoStruct,
  goTypeOf,
  intValue,
  isMap,
  Kind,
  kindOf,
  sortedKeys,
  typed,
} from './values.js';

/** reflect.Kind's name of a value held in an interface{} (`invalid` for nil). */
export function reflectKind(v: unknown): string {
  switch (kindOf(v)) {
    case Kind.Invalid:
    case Kind.Nil:
      return 'invalid';
    case Kind.Bool:
      return 'bool';
    case Kind.Int:
      return v instanceof GoInt ? v.type : 'int';
    case Kind.Float:
      return 'float64';
    case Kind.String:
      return 'string';
    case Kind.Slice:
      return 'slice';
    case Kind.Map:
      return 'map';
    case Kind.Struct:
      return (v as GoStruct).typeName.startsWith('*') ? 'ptr' : 'struct';
    case Kind.Chan:
      return 'chan';
    case Kind.Func:
      return 'func';
    default:
      return 'interface';
  }
}

/** Go's panic when sprig calls reflect.TypeOf(nil).Kind(). */
export function nilDeref(): Error {
  return new Error('runtime error: invalid memory address or nil pointer dereference');
}

/** The elements of a slice argument, or sprig's error naming the kind it got. */
export function listArg(v: unknown, msg: (kind: string) => string): unknown[] {
  if (v === null || v === undefined) throw nilDeref();
  if (Array.isArray(v)) return v;
  throw new Error(msg(reflectKind(v)));
}

/** sprig's strval: strings as they are, Stringers through String(), the rest with %v. */
export function strval(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof GoStruct && v.methods.String) return v.methods.String.fn() as string;
  return sprint([v === undefined ? null : v]);
}

/** sprig's empty: the zero value of its kind, nil, or an empty container. */
export function empty(v: unknown): boolean {
  switch (kindOf(v)) {
    case Kind.Invalid:
    case Kind.Nil:
      return true;
    case Kind.Bool:
      return v === false;
    case Kind.Int: {
      const n = intValue(v);
      return typeof n === 'bigint' ? n === 0n : n === 0;
    }
    case Kind.Float:
      return floatValue(v) === 0;
    case Kind.String:
      return (v as string).length === 0;
    case Kind.Slice:
      return (v as unknown[]).length === 0;
    case Kind.Map:
      return Object.keys(v as object).length === 0;
    default:
      return false;
  }
}

/** strconv.ParseInt(s, 0, 64) as spf13/cast calls it (after trimming a zero decimal part). */
export function parseIntBase0(s: string): bigint | null {
  let t = s;
  // cast's trimZeroDecimal: "12.00" -> "12".
  let foundZero = false;
  for (let i = t.length; i > 0; i--) {
    const c = t[i - 1];
    if (c === '.') {
      if (foundZero) t = t.slice(0, i - 1);
      break;
    }
    if (c === '0') foundZero = true;
    else break;
  }
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|0[0-7_]*|[1-9][0-9_]*)$/.exec(t);
  if (!m) return null;
  let body = m[2];
  if (body.includes('_')) {
    // Underscores only between digits (a base prefix counts as one).
    if (/__|_$/.test(body) || /^_/.test(body)) return null;
    body = body.replace(/_/g, '');
  }
  let n: bigint;
  if (/^0[xX]/.test(body)) n = BigInt('0x' + body.slice(2));
  else if (/^0[bB]/.test(body)) n = BigInt('0b' + body.slice(2));
  else if (/^0[oO]/.test(body)) n = BigInt('0o' + body.slice(2));
  else if (/^0[0-7]+$/.test(body)) n = BigInt('0o' + body.slice(1));
  else if (body === '0') n = 0n;
  else n = BigInt(body);
  if (m[1] === '-') n = -n;
  if (n > 9223372036854775807n || n < -9223372036854775808n) return null;
  return n;
}

function goNumber(n: bigint): number | bigint {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

/** cast.ToInt64 with the error dropped. */
export function toInt64(v: unknown): number | bigint {
  switch (kindOf(v)) {
    case Kind.Int:
      // A uint64 beyond int64 wraps, as Go's conversion does.
      return goNumber(BigInt.asIntN(64, BigInt(intValue(v))));
    case Kind.Float: {
      const f = floatValue(v);
      if (!Number.isFinite(f)) return 0;
      return goNumber(BigInt(Math.trunc(f)));
    }
    case Kind.String: {
      const n = parseIntBase0(v as string);
      return n === null ? 0 : goNumber(n);
    }
    case Kind.Bool:
      return v ? 1 : 0;
    default:
      return 0;
  }
}

export function toInt64Big(v: unknown): bigint {
  return BigInt(toInt64(v));
}

/** cast.ToFloat64 with the error dropped (a plain JS number). */
export function toFloat64(v: unknown): number {
  switch (kindOf(v)) {
    case Kind.Int:
      return Number(v);
    case Kind.Float:
      return floatValue(v);
    case Kind.String: {
      const f = parseGoFloatString(v as string);
      return f ?? 0;
    }
    case Kind.Bool:
      return v ? 1 : 0;
    default:
      return 0;
  }
}

/** strconv.ParseFloat(s, 64) for the forms people write; null when Go would refuse it. */
export function parseGoFloatString(s: string): number | null {
  const t = s.replace(/_/g, '');
  if (/^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)$/.test(t) && !/^_|_$|__/.test(s)) {
    if (s.includes('_')) return null;
    const n = Number(t);
    // strconv.ParseFloat refuses what overflows (cast then gives 0).
    return Number.isFinite(n) ? n : null;
  }
  if (/^[+-]?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(s)) return Number.NaN;
  if (/^[+-]?0[xX]/.test(s)) {
    const m = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/.exec(s);
    if (!m) return null;
    const mant = Number.parseInt((m[2] || '0') + (m[3] ?? ''), 16) / 16 ** (m[3]?.length ?? 0);
    const r = mant * 2 ** Number(m[4]);
    return m[1] === '-' ? -r : r;
  }
  return null;
}

/** An int64 result (Go's int64 arithmetic wraps). */
export function int64(n: bigint): GoInt {
  return new GoInt(goNumber(BigInt.asIntN(64, n)), 'int64');
}

/** An int result: Go's int is 64 bits wide here too. */
export function goInt(n: bigint): number | bigint {
  return goNumber(BigInt.asIntN(64, n));
}

export function f64(n: number): number | GoFloat {
  return float(n);
}

/** reflect.DeepEqual over tend's values. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === null || b === null) return a === b;
  if (goTypeOf(a) !== goTypeOf(b)) return false;
  switch (kindOf(a)) {
    case Kind.Int:
      return BigInt(a as number) === BigInt(b as number);
    case Kind.Float:
      return floatValue(a) === floatValue(b);
    case Kind.Slice: {
      const x = a as unknown[];
      const y = b as unknown[];
      return x.length === y.length && x.every((e, i) => deepEqual(e, y[i]));
    }
    case Kind.Map: {
      const x = a as Record<string, unknown>;
      const y = b as Record<string, unknown>;
      const kx = Object.keys(x);
      if (kx.length !== Object.keys(y).length) return false;
      return kx.every((k) => Object.hasOwn(y, k) && deepEqual(x[k], y[k]));
    }
    case Kind.Struct: {
      const x = a as GoStruct;
      const y = b as GoStruct;
      return Object.keys(x.fields).every((k) => deepEqual(x.fields[k], y.fields[k]));
    }
    default:
      return a === b;
  }
}

// ---- capacities (spew prints `cap=`) ----

const CAP = Symbol.for('tend.template.cap');

/** Go 1.19's malloc size classes up to 32 KiB. */
const SIZE_CLASSES = [
  0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352, 384, 416,
  448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200,
  3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384,
  18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768,
];

function roundUpSize(n: number): number {
  if (n <= 32768) {
    for (const c of SIZE_CLASSES) if (c >= n) return c;
  }
  return Math.ceil(n / 8192) * 8192;
}

/** runtime.growslice of Go 1.19: the capacity after appending to a full slice. */
export function growCap(oldCap: number, needed: number, elemSize: number): number {
  let newcap = oldCap;
  const doublecap = newcap + newcap;
  if (needed > doublecap) newcap = needed;
  else if (oldCap < 256) newcap = doublecap;
  else {
    while (newcap > 0 && newcap < needed) newcap += Math.floor((newcap + 3 * 256) / 4);
    if (newcap <= 0) newcap = needed;
  }
  return Math.floor(roundUpSize(newcap * elemSize) / elemSize);
}

/** The capacity of a slice built by appending n elements one at a time to an empty slice. */
export function appendedCap(n: number, elemSize = 16): number {
  let cap = 0;
  for (let i = 1; i <= n; i++) if (i > cap) cap = growCap(cap, i, elemSize);
  return cap;
}

export function withCap<T extends unknown[]>(a: T, cap: number): T {
  Object.defineProperty(a, CAP, { value: cap, enumerable: false, configurable: true });
  return a;
}

/**
 * A slice's capacity: recorded by the function that made it, else that of Go's JSON decoder for
 * `[]interface {}` data (it appends one element at a time), else its length.
 */
export function capOf(a: unknown[]): number {
  const c = (a as { [CAP]?: number })[CAP];
  if (c !== undefined) return c;
  return goTypeOf(a) === '[]interface {}' ? appendedCap(a.length) : a.length;
}

export function strings(a: string[]): string[] {
  return withCap(typed(a, 'string'), a.length);
}

export function ifaces(a: unknown[], cap = a.length): unknown[] {
  return withCap(a, cap);
}

export { isMap, sortedKeys };
