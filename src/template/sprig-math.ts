/** sprig's conversion and arithmetic functions (sprig v3.2.3, spf13/cast, shopspring/decimal). */
import type { FuncSpec } from './exec.js';
import { sprint } from './fmt.js';
import { appendedCap, f64, goInt, ifaces, int64, toFloat64, toInt64Big } from './sprig-core.js';
import { float, GoInt, Kind, kindOf, typed } from './values.js';

type Def = (name: string, params: string[], fn: FuncSpec['fn'], variadic?: string) => void;

// ---- shopspring/decimal, just enough for addf/subf/mulf/divf ----

interface Dec {
  c: bigint;
  e: number;
}

/** decimal.NewFromFloat: the shortest decimal that reads back as the float. */
function decFromFloat(f: number): Dec {
  if (!Number.isFinite(f))
    throw new Error(`Cannot create a Decimal from ${f > 0 ? '+Inf' : f < 0 ? '-Inf' : 'NaN'}`);
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(f));
  if (!m) return { c: 0n, e: 0 };
  const frac = m[3] ?? '';
  const c = BigInt(m[1] + m[2] + frac);
  return { c, e: Number(m[4] ?? 0) - frac.length };
}

function align(a: Dec, b: Dec): [bigint, bigint, number] {
  const e = Math.min(a.e, b.e);
  return [a.c * 10n ** BigInt(a.e - e), b.c * 10n ** BigInt(b.e - e), e];
}

function decDiv(a: Dec, b: Dec): Dec {
  if (b.c === 0n) throw new Error('decimal division by 0');
  // DivRound(d2, 16): the quotient rounded half away from zero to 16 decimal places.
  const prec = 16;
  // a/b = (a.c/b.c) * 10^(a.e-b.e); scale to 10^-prec.
  const shift = a.e - b.e + prec;
  let num = a.c;
  let den = b.c;
  if (shift >= 0) num *= 10n ** BigInt(shift);
  else den *= 10n ** BigInt(-shift);
  const neg = num < 0n !== den < 0n;
  if (num < 0n) num = -num;
  if (den < 0n) den = -den;
  let q = num / den;
  const r = num % den;
  if (r * 2n >= den) q += 1n;
  return { c: neg ? -q : q, e: -prec };
}

function decFloat(d: Dec): number {
  return Number(`${d.c}e${d.e}`);
}

function decimalOp(a: unknown, rest: unknown[], op: (x: Dec, y: Dec) => Dec): number {
  let acc = decFromFloat(toFloat64(a));
  for (const x of rest) acc = op(acc, decFromFloat(toFloat64(x)));
  return decFloat(acc);
}

const add = (a: Dec, b: Dec): Dec => {
  const [x, y, e] = align(a, b);
  return { c: x + y, e };
};
const sub = (a: Dec, b: Dec): Dec => {
  const [x, y, e] = align(a, b);
  return { c: x - y, e };
};
const mul = (a: Dec, b: Dec): Dec => ({ c: a.c * b.c, e: a.e + b.e });

function untilStep(start: number, stop: number, step: number): number[] {
  const v: number[] = [];
  if (stop < start) {
    if (step >= 0) return v;
    for (let i = start; i > stop; i += step) v.push(i);
    return v;
  }
  if (step <= 0) return v;
  for (let i = start; i < stop; i += step) v.push(i);
  return v;
}

function ints(a: number[]): number[] {
  return ifaces(typed(a, 'int'), appendedCap(a.length, 8)) as number[];
}

function clampInt64(n: bigint): bigint {
  if (n > 9223372036854775807n) return 9223372036854775807n;
  if (n < -9223372036854775808n) return -9223372036854775808n;
  return n;
}

// ---- time.Duration ----

/** time.Duration.String for a whole number of nanoseconds. */
export function durationString(ns: bigint): string {
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  let out: string;
  if (u < 1000000000n) {
    // Sub-second: ns, µs or ms with a fraction.
    let unit = 'ns';
    let div = 1n;
    if (u >= 1000000n) {
      unit = 'ms';
      div = 1000000n;
    } else if (u >= 1000n) {
      unit = 'µs';
      div = 1000n;
    }
    out = fracStr(u, div) + unit;
  } else {
    const h = u / 3600000000000n;
    u -= h * 3600000000000n;
    const m = u / 60000000000n;
    u -= m * 60000000000n;
    out = fracStr(u, 1000000000n) + 's';
    if (h > 0n || m > 0n) out = `${m}m` + out;
    if (h > 0n) out = `${h}h` + out;
  }
  return neg ? '-' + out : out;
}

function fracStr(v: bigint, div: bigint): string {
  const i = v / div;
  const f = v % div;
  if (f === 0n) return String(i);
  const digits = String(div).length - 1;
  return `${i}.${String(f).padStart(digits, '0').replace(/0+$/, '')}`;
}

/** time.ParseDuration; null when Go would refuse the text. */
export function parseDuration(s: string): bigint | null {
  const units: Record<string, number> = {
    ns: 1,
    us: 1e3,
    µs: 1e3,
    μs: 1e3,
    ms: 1e6,
    s: 1e9,
    m: 60e9,
    h: 3600e9,
  };
  let t = s;
  let neg = false;
  if (t.startsWith('-') || t.startsWith('+')) {
    neg = t[0] === '-';
    t = t.slice(1);
  }
  if (t === '0') return 0n;
  if (t === '') return null;
  let total = 0;
  const re = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;
  while (t !== '') {
    const m = re.exec(t);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) return null;
    const v = Number(`${m[1] || '0'}.${m[2] ?? ''}`);
    total += v * units[m[3]];
    t = t.slice(m[0].length);
  }
  const r = BigInt(Math.round(total));
  return neg ? -r : r;
}

export function defineMath(def: Def): void {
  const A = 'any';
  def('atoi', ['string'], (s: string) => {
    // strconv.Atoi with its error dropped: 0 for bad syntax, the nearest bound when out of range.
    if (!/^[+-]?\d+$/.test(s)) return 0;
    return goInt(clampInt64(BigInt(s)));
  });
  def('int64', [A], (v: unknown) => int64(toInt64Big(v)));
  def('int', [A], (v: unknown) => goInt(toInt64Big(v)));
  def('float64', [A], (v: unknown) => f64(toFloat64(v)));
  def('toDecimal', [A], (v: unknown) => {
    // strconv.ParseInt(fmt.Sprint(v), 8, 64), 0 on any error.
    const s = kindOf(v) === Kind.String ? (v as string) : sprint([v]);
    if (!/^[+-]?[0-7]+$/.test(s)) return int64(0n);
    const n = BigInt('0o' + s.replace(/^[+-]/, ''));
    const r = s.startsWith('-') ? -n : n;
    if (r > 9223372036854775807n || r < -9223372036854775808n) return int64(0n);
    return int64(r);
  });
  def(
    'seq',
    [],
    (...p: number[]) => {
      let out: number[] = [];
      if (p.length === 1) {
        const inc = p[0] < 1 ? -1 : 1;
        out = untilStep(1, p[0] + inc, inc);
      } else if (p.length === 2) {
        const step = p[1] < p[0] ? -1 : 1;
        out = untilStep(p[0], p[1] + step, step);
      } else if (p.length === 3) {
        const [start, step, end] = p;
        let inc = 1;
        if (end < start) {
          inc = -1;
          if (step > 0) return '';
        }
        out = untilStep(start, end + inc, step);
      }
      return out.join(' ');
    },
    'int',
  );
  def('until', ['int'], (n: number) => ints(untilStep(0, n, n < 0 ? -1 : 1)));
  def('untilStep', ['int', 'int', 'int'], (a: number, b: number, c: number) => ints(untilStep(a, b, c)));

  def('add1', [A], (v: unknown) => int64(toInt64Big(v) + 1n));
  def('add', [], (...v: unknown[]) => int64(v.reduce<bigint>((s, x) => s + toInt64Big(x), 0n)), A);
  def('sub', [A, A], (a: unknown, b: unknown) => int64(toInt64Big(a) - toInt64Big(b)));
  const divmod = (op: (a: bigint, b: bigint) => bigint) => (a: unknown, b: unknown) => {
    const y = toInt64Big(b);
    if (y === 0n) throw new Error('runtime error: integer divide by zero');
    return int64(op(toInt64Big(a), y));
  };
  def(
    'div',
    [A, A],
    divmod((a, b) => a / b),
  );
  def(
    'mod',
    [A, A],
    divmod((a, b) => a % b),
  );
  def(
    'mul',
    [A],
    (a: unknown, ...v: unknown[]) => int64(v.reduce<bigint>((s, x) => s * toInt64Big(x), toInt64Big(a))),
    A,
  );
  def('add1f', [A], (v: unknown) => f64(decimalOp(v, [1], add)));
  def('addf', [], (...v: unknown[]) => f64(decimalOp(float(0), v, add)), A);
  def('subf', [A], (a: unknown, ...v: unknown[]) => f64(decimalOp(a, v, sub)), A);
  def('mulf', [A], (a: unknown, ...v: unknown[]) => f64(decimalOp(a, v, mul)), A);
  def('divf', [A], (a: unknown, ...v: unknown[]) => f64(decimalOp(a, v, decDiv)), A);
  const maxmin =
    (pick: (a: bigint, b: bigint) => boolean) =>
    (a: unknown, ...v: unknown[]) => {
      let r = toInt64Big(a);
      for (const x of v) {
        const b = toInt64Big(x);
        if (pick(b, r)) r = b;
      }
      return int64(r);
    };
  def(
    'biggest',
    [A],
    maxmin((b, a) => b > a),
    A,
  );
  def(
    'max',
    [A],
    maxmin((b, a) => b > a),
    A,
  );
  def(
    'min',
    [A],
    maxmin((b, a) => b < a),
    A,
  );
  const goMax = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.max(a, b));
  const goMin = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.min(a, b));
  def(
    'maxf',
    [A],
    (a: unknown, ...v: unknown[]) => f64(v.reduce<number>((s, x) => goMax(s, toFloat64(x)), toFloat64(a))),
    A,
  );
  def(
    'minf',
    [A],
    (a: unknown, ...v: unknown[]) => f64(v.reduce<number>((s, x) => goMin(s, toFloat64(x)), toFloat64(a))),
    A,
  );
  def('ceil', [A], (v: unknown) => f64(Math.ceil(toFloat64(v))));
  def('floor', [A], (v: unknown) => f64(Math.floor(toFloat64(v))));
  def(
    'round',
    [A, 'int'],
    (a: unknown, p: number, ...opt: number[]) => {
      const roundOn = opt.length > 0 ? opt[0] : 0.5;
      const pow = 10 ** p;
      const digit = pow * toFloat64(a);
      const frac = digit - Math.trunc(digit);
      const r = frac >= roundOn ? Math.ceil(digit) : Math.floor(digit);
      return f64(r / pow);
    },
    'float64',
  );

  def('duration', [A], (v: unknown) => {
    // sprig reads a string (ParseInt, error dropped) or an int64; anything else is 0.
    let n = 0n;
    if (typeof v === 'string') n = /^[+-]?\d+$/.test(v) ? clampInt64(BigInt(v)) : 0n;
    else if (v instanceof GoInt && v.type === 'int64') n = BigInt(v.value);
    return durationString(BigInt.asIntN(64, n * 1000000000n));
  });
  def('durationRound', [A], (v: unknown) => {
    let d = 0n;
    if (typeof v === 'string') d = parseDuration(v) ?? 0n;
    else if (v instanceof GoInt && v.type === 'int64') d = BigInt(v.value);
    let u = d < 0n ? -d : d;
    const hour = 3600000000000n;
    const units: [bigint, string][] = [
      [hour * 24n * 365n, 'y'],
      [hour * 24n * 30n, 'mo'],
      [hour * 24n, 'd'],
      [hour, 'h'],
      [60000000000n, 'm'],
      [1000000000n, 's'],
    ];
    u = BigInt.asUintN(64, u);
    for (const [size, name] of units) if (u > size) return `${u / size}${name}`;
    return '0s';
  });
}
