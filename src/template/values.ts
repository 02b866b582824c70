/**
 * The value model: how Go's dynamically typed template values map onto JavaScript.
 *
 * - `undefined` is Go's invalid reflect.Value (a missing map key, nil data): prints `<no value>`.
 * - `null` is a nil `interface{}` found inside a container (JSON `null`).
 * - booleans and strings are themselves.
 * - a JS number that is an integer is a Go `int`; any other number is a `float64`.
 *   `GoFloat` marks a float64 whose value happens to be integral (`1.0`, `parseFloat "2"`),
 *   so that `%T`, `%d` and comparisons behave as in Go. `bigint` is an `int` too.
 * - arrays are `[]interface {}` and plain objects `map[string]interface {}`, unless tagged
 *   with `typed()` (e.g. `split` returns a `[]string`).
 * - `GoStruct` stands in for the Go structs consul-template returns (`*dependency.KeyPair`…).
 * - `GoChan` is the channel `loop` returns.
 */

export class GoFloat {
  constructor(readonly value: number) {}
}

/**
 * An integer of a Go type other than `int`: sprig's `int64` results, `uint64` fields. It reports its
 * own type (`%T`, argument checks, spew) and otherwise acts as its number (valueOf), so arithmetic,
 * comparisons and printing need nothing special.
 */
export class GoInt {
  constructor(
    readonly value: number | bigint,
    readonly type: 'int64' | 'uint64',
  ) {}
  valueOf(): number | bigint {
    return this.value;
  }
  toString(): string {
    return String(this.value);
  }
}

/** The number of an integer value, unboxed. */
export function intValue(v: unknown): number | bigint {
  return v instanceof GoInt ? v.value : (v as number | bigint);
}

/** A float64 value: boxed only when integral, so plain data stays plain. */
export function float(n: number): number | GoFloat {
  return Number.isInteger(n) ? new GoFloat(n) : n;
}

// biome-ignore lint/suspicious/noExplicitAny: methods receive values of their declared Go types
export type GoMethod = (...args: any[]) => unknown;

export class GoStruct {
  constructor(
    /** Go type as reflect prints it, e.g. `*dependency.KeyPair`. */
    readonly typeName: string,
    /** Field values, in declaration order (used by `%v`). */
    readonly fields: Record<string, unknown>,
    readonly methods: MethodTable = {},
  ) {}
}

export class GoChan {
  constructor(
    readonly elemType: string,
    readonly items: unknown[],
  ) {}
}

/** A JS function usable with `call`, or a data value holding a function. */
export type GoFunc = (...args: unknown[]) => unknown;

const ELEM = Symbol.for('tend.template.elemType');
const NAMED = Symbol.for('tend.template.namedType');
const METHODS = Symbol.for('tend.template.methods');
const KEY = Symbol.for('tend.template.keyType');
const REBIND = Symbol.for('tend.template.rebind');

export type MethodTable = Record<string, { params: string[]; variadic?: string; fn: GoMethod }>;

/**
 * Give a slice or map a named Go type with methods (e.g. `dependency.ServiceTags.Contains`).
 * `rebind` builds the methods for another slice of the same type: with it, `slice` keeps the type
 * (as Go does); without it, a sliced value falls back to its unnamed type.
 */
export function named<T extends object>(
  container: T,
  typeName: string,
  methods: MethodTable,
  rebind?: (c: T) => MethodTable,
): T {
  Object.defineProperty(container, NAMED, { value: typeName, enumerable: false });
  Object.defineProperty(container, METHODS, { value: methods, enumerable: false });
  if (rebind) Object.defineProperty(container, REBIND, { value: rebind, enumerable: false });
  return container;
}

/** `copy`, a slice of `orig`, given `orig`'s named type when its methods can follow. */
export function renamed<T extends object>(orig: T, copy: T): T {
  const rebind = (orig as { [REBIND]?: (c: T) => MethodTable })[REBIND];
  const typeName = (orig as { [NAMED]?: string })[NAMED];
  return rebind && typeName ? named(copy, typeName, rebind(copy), rebind) : copy;
}

export function methodsOf(v: unknown): MethodTable | undefined {
  if (v instanceof GoStruct) return v.methods;
  if (v !== null && typeof v === 'object') return (v as { [METHODS]?: MethodTable })[METHODS];
  return undefined;
}

/** The unnamed type underlying a value's type (`[]string` for `dependency.ServiceTags`). */
export function underlyingTypeOf(v: unknown): string {
  if (Array.isArray(v)) return '[]' + elemTypeOf(v);
  if (isMap(v)) return `map[${keyTypeOf(v)}]${elemTypeOf(v)}`;
  return goTypeOf(v);
}

/** Tag an array or map with its Go element type (default `interface {}`). */
export function typed<T extends object>(container: T, elemType: string): T {
  Object.defineProperty(container, ELEM, { value: elemType, enumerable: false });
  return container;
}

/**
 * Make a map an int-keyed one (`map[int]…`, as `byPort` returns): its keys are decimal strings here, it ranges
 * in numeric order with int keys, and `index` takes ints.
 */
export function intKeyed<T extends object>(container: T): T {
  Object.defineProperty(container, KEY, { value: 'int', enumerable: false });
  return container;
}

export function keyTypeOf(container: object): 'string' | 'int' {
  return (container as { [KEY]?: 'int' })[KEY] ?? 'string';
}

export function elemTypeOf(container: object): string {
  return (container as { [ELEM]?: string })[ELEM] ?? 'interface {}';
}

export function isMap(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export enum Kind {
  Invalid = 0,
  Bool = 1,
  Int = 2,
  Float = 3,
  String = 4,
  Slice = 5,
  Map = 6,
  Struct = 7,
  Func = 8,
  Chan = 9,
  Nil = 10,
  Other = 11,
}

export function kindOf(v: unknown): Kind {
  switch (typeof v) {
    case 'undefined':
      return Kind.Invalid;
    case 'boolean':
      return Kind.Bool;
    case 'number':
      // Integers beyond int64's range can only be floats in Go.
      return Number.isInteger(v) && Math.abs(v as number) < 9.2e18 ? Kind.Int : Kind.Float;
    case 'bigint':
      return Kind.Int;
    case 'string':
      return Kind.String;
    case 'function':
      return Kind.Func;
    case 'object':
      if (v === null) return Kind.Nil;
      if (Array.isArray(v)) return Kind.Slice;
      if (v instanceof GoFloat) return Kind.Float;
      if (v instanceof GoInt) return Kind.Int;
      if (v instanceof GoStruct) return Kind.Struct;
      if (v instanceof GoChan) return Kind.Chan;
      if (isMap(v)) return Kind.Map;
      return Kind.Other;
    default:
      return Kind.Other;
  }
}

/** The Go type name reflect would print for a value. */
export function goTypeOf(v: unknown): string {
  switch (kindOf(v)) {
    case Kind.Invalid:
    case Kind.Nil:
      return '<nil>';
    case Kind.Bool:
      return 'bool';
    case Kind.Int:
      return v instanceof GoInt ? v.type : 'int';
    case Kind.Float:
      return 'float64';
    case Kind.String:
      return 'string';
    case Kind.Slice:
      return (v as { [NAMED]?: string })[NAMED] ?? '[]' + elemTypeOf(v as object);
    case Kind.Map:
      return (v as { [NAMED]?: string })[NAMED] ?? `map[${keyTypeOf(v as object)}]${elemTypeOf(v as object)}`;
    case Kind.Struct:
      return (v as GoStruct).typeName;
    case Kind.Chan:
      return '<-chan ' + (v as GoChan).elemType;
    case Kind.Func:
      return 'func(...interface {}) (interface {}, error)';
    default:
      return 'interface {}';
  }
}

export function floatValue(v: unknown): number {
  return v instanceof GoFloat ? v.value : Number(v);
}

/** Go's truthiness (text/template's isTrue); invalid and nil are false. */
export function truth(v: unknown): boolean {
  switch (kindOf(v)) {
    case Kind.Invalid:
    case Kind.Nil:
      return false;
    case Kind.Bool:
      return v as boolean;
    case Kind.Int: {
      const n = intValue(v);
      return typeof n === 'bigint' ? n !== 0n : n !== 0;
    }
    case Kind.Float:
      return floatValue(v) !== 0;
    case Kind.String:
      return (v as string).length > 0;
    case Kind.Slice:
      return (v as unknown[]).length > 0;
    case Kind.Map:
      return Object.keys(v as object).length > 0;
    default:
      return true;
  }
}

/** Map keys in Go's iteration order for text/template (sorted; byte order for strings). */
export function sortedKeys(m: Record<string, unknown>): string[] {
  const keys = Object.keys(m);
  if (keyTypeOf(m) === 'int') return keys.sort((a, b) => Number(a) - Number(b));
  return keys.sort(compareGoStrings);
}

/** Go compares strings bytewise (UTF-8); UTF-16 code unit order differs only for astral vs U+E000–U+FFFF. */
export function compareGoStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) {
      const sa = ca >= 0xd800 && ca <= 0xdfff;
      const sb = cb >= 0xd800 && cb <= 0xdfff;
      if (sa !== sb && (ca >= 0xe000 || cb >= 0xe000)) return sa ? 1 : -1;
      return ca - cb;
    }
  }
  return a.length - b.length;
}

export function hasKey(m: Record<string, unknown>, k: string): boolean {
  return Object.hasOwn(m, k);
}

const encoder = new TextEncoder();

export function byteLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

export function utf8Bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

/**
 * Decode JSON into template data the way the Go fixture generator does: integers are `int`,
 * numbers written with a fraction or exponent are `float64` (boxed when integral).
 */
export function parseJSONData(text: string): unknown {
  let i = 0;
  const ws = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const fail = (msg: string): never => {
    throw new SyntaxError(`invalid JSON at offset ${i}: ${msg}`);
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected string key');
        const k = str();
        ws();
        if (text[i] !== ':') fail('expected :');
        i++;
        Object.defineProperty(obj, k, {
          value: value(),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail('expected , or }');
      }
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail('expected , or ]');
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    const m = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail('unexpected character');
    i += m[0].length;
    if (m[1] !== undefined || m[2] !== undefined) return float(Number(m[0]));
    const n = Number(m[0]);
    return Number.isSafeInteger(n) ? n : BigInt(m[0]);
  };
  const str = (): string => {
    const start = i;
    i++;
    let simple = true;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') {
        simple = false;
        i++;
      }
      i++;
    }
    if (i >= text.length) fail('unterminated string');
    i++;
    const raw = text.slice(start, i);
    return simple ? raw.slice(1, -1) : (JSON.parse(raw) as string);
  };
  const v = value();
  ws();
  if (i !== text.length) fail('trailing data');
  return v;
}
