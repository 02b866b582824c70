/** text/template's predefined functions (funcs.go), with Go's argument rules and error texts. */
import type { FuncSpec } from './exec.js';
import { sprint, sprintf, sprintln } from './fmt.js';
import {
  compareGoStrings,
  elemTypeOf,
  floatValue,
  type GoChan,
  GoStruct,
  goTypeOf,
  hasKey,
  intValue,
  Kind,
  keyTypeOf,
  kindOf,
  renamed,
  truth,
  typed,
  utf8Bytes,
} from './values.js';

const decoder = new TextDecoder();

/** indirectInterface: a nil interface is an invalid value. */
function ind(v: unknown): unknown {
  return v === null ? undefined : v;
}

function indexArg(index: unknown, cap: number): number {
  const k = kindOf(index);
  if (k === Kind.Invalid || k === Kind.Nil) throw new Error('cannot index slice/array with nil');
  if (k !== Kind.Int) throw new Error(`cannot index slice/array with type ${goTypeOf(index)}`);
  const x = Number(index);
  if (x < 0 || x > cap) throw new Error(`index out of range: ${String(index)}`);
  return x;
}

function index(item: unknown, ...indexes: unknown[]): unknown {
  item = ind(item);
  if (item === undefined) throw new Error('index of untyped nil');
  for (let idx of indexes) {
    idx = ind(idx);
    if (item === null) throw new Error('index of nil pointer');
    const k = kindOf(item);
    if (k === Kind.Slice) {
      const a = item as unknown[];
      const x = indexArg(idx, a.length);
      if (x >= a.length) throw new Error('reflect: slice index out of range');
      const e = a[x];
      item = e === undefined ? null : e;
    } else if (k === Kind.String) {
      const b = utf8Bytes(item as string);
      const x = indexArg(idx, b.length);
      if (x >= b.length) throw new Error('reflect: string index out of range');
      item = b[x];
    } else if (k === Kind.Map) {
      const m = item as Record<string, unknown>;
      const keyType = keyTypeOf(m);
      if (idx === undefined) throw new Error(`value is nil; should be of type ${keyType}`);
      let key: string;
      if (keyType === 'int') {
        if (kindOf(idx) !== Kind.Int) throw new Error(`value has type ${goTypeOf(idx)}; should be int`);
        key = String(idx);
      } else if (typeof idx !== 'string')
        throw new Error(`value has type ${goTypeOf(idx)}; should be string`);
      else key = idx;
      const elem = elemTypeOf(m);
      if (hasKey(m, key)) {
        const e = m[key];
        item = e === undefined ? null : e;
      } else if (elem.startsWith('[]')) {
        // The zero value of a slice type: a nil slice, which prints and ranges as an empty one.
        item = typed([], elem.slice(2));
      } else item = elem === 'interface {}' ? null : elem === 'string' ? '' : null;
    } else {
      throw new Error(`can't index item of type ${goTypeOf(item)}`);
    }
  }
  return item;
}

function slice(item: unknown, ...indexes: unknown[]): unknown {
  item = ind(item);
  if (item === undefined) throw new Error('slice of untyped nil');
  if (indexes.length > 3) throw new Error(`too many slice indexes: ${indexes.length}`);
  const k = kindOf(item);
  let cap: number;
  let bytes: Uint8Array | null = null;
  if (k === Kind.String) {
    if (indexes.length === 3) throw new Error('cannot 3-index slice a string');
    bytes = utf8Bytes(item as string);
    cap = bytes.length;
  } else if (k === Kind.Slice) cap = (item as unknown[]).length;
  else throw new Error(`can't slice item of type ${goTypeOf(item)}`);
  const idx = [0, cap, cap];
  for (let i = 0; i < indexes.length; i++) idx[i] = indexArg(ind(indexes[i]), cap);
  if (idx[0] > idx[1]) throw new Error(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1] > idx[2]) throw new Error(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  if (bytes) return decoder.decode(bytes.subarray(idx[0], idx[1]));
  const a = item as unknown[];
  return renamed(a, typed(a.slice(idx[0], idx[1]), elemTypeOf(a)));
}

function length(item: unknown): number {
  if (item === undefined) throw new Error('reflect: call of reflect.Value.Type on zero Value');
  if (item === null) throw new Error('len of nil pointer');
  switch (kindOf(item)) {
    case Kind.String:
      return utf8Bytes(item as string).length;
    case Kind.Slice:
      return (item as unknown[]).length;
    case Kind.Map:
      return Object.keys(item as object).length;
    case Kind.Chan:
      return (item as GoChan).items.length;
  }
  throw new Error(`len of type ${goTypeOf(item)}`);
}

function call(fn: unknown, ...args: unknown[]): unknown {
  fn = ind(fn);
  if (fn === undefined) throw new Error('call of nil');
  if (typeof fn !== 'function') throw new Error(`non-function of type ${goTypeOf(fn)}`);
  return (fn as (...a: unknown[]) => unknown)(...args.map((a) => (a === undefined ? null : a)));
}

enum BK {
  Invalid = 0,
  Bool = 1,
  Int = 2,
  Float = 3,
  String = 4,
}

function basicKind(v: unknown): BK {
  switch (kindOf(v)) {
    case Kind.Bool:
      return BK.Bool;
    case Kind.Int:
      return BK.Int;
    case Kind.Float:
      return BK.Float;
    case Kind.String:
      return BK.String;
  }
  return BK.Invalid;
}

function isNilValue(v: unknown): boolean {
  return v === undefined || v === null;
}

function comparable(v: unknown): boolean {
  const k = kindOf(v);
  return !(k === Kind.Slice || k === Kind.Map || k === Kind.Func);
}

function eq(arg1: unknown, ...arg2: unknown[]): boolean {
  arg1 = ind(arg1);
  if (arg2.length === 0) throw new Error('missing argument for comparison');
  const k1 = basicKind(arg1);
  for (let arg of arg2) {
    arg = ind(arg);
    const k2 = basicKind(arg);
    let t = false;
    if (k1 !== k2) {
      if (arg1 !== undefined && arg !== undefined) throw new Error('incompatible types for comparison');
    } else {
      switch (k1) {
        case BK.Bool:
        case BK.String:
          t = arg1 === arg;
          break;
        case BK.Float:
          t = floatValue(arg1) === floatValue(arg);
          break;
        case BK.Int:
          // biome-ignore lint/suspicious/noDoubleEquals: int may be number or bigint
          t = intValue(arg1) == intValue(arg);
          break;
        default: {
          const ka = kindOf(arg1);
          const kb = kindOf(arg);
          if (ka !== kb && ka !== Kind.Invalid && kb !== Kind.Invalid) {
            throw new Error(
              `non-comparable types ${sprintf('%s', [arg1])}: ${goTypeOf(arg1)}, ${goTypeOf(arg)}: ${sprint([arg])}`,
            );
          }
          if (isNilValue(arg1) || isNilValue(arg)) t = isNilValue(arg) === isNilValue(arg1);
          else {
            if (!comparable(arg))
              throw new Error(`non-comparable type ${sprintf('%s', [arg])}: ${goTypeOf(arg)}`);
            t = arg1 === arg;
          }
        }
      }
    }
    if (t) return true;
  }
  return false;
}

function lt(arg1: unknown, arg2: unknown): boolean {
  arg1 = ind(arg1);
  const k1 = basicKind(arg1);
  if (k1 === BK.Invalid) throw new Error('invalid type for comparison');
  arg2 = ind(arg2);
  const k2 = basicKind(arg2);
  if (k2 === BK.Invalid) throw new Error('invalid type for comparison');
  if (k1 !== k2) throw new Error('incompatible types for comparison');
  switch (k1) {
    case BK.Bool:
      throw new Error('invalid type for comparison');
    case BK.Float:
      return floatValue(arg1) < floatValue(arg2);
    case BK.Int:
      return (arg1 as number) < (arg2 as number);
    default:
      return compareGoStrings(arg1 as string, arg2 as string) < 0;
  }
}

function le(a: unknown, b: unknown): boolean {
  return lt(a, b) || eq(a, b);
}

// ---- escapers ----

function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  // Go passes each argument through printableValue, which turns nil into the string "<no value>".
  return sprint(args.map((a) => (a === null || a === undefined ? '<no value>' : a)));
}

export function htmlEscapeString(s: string): string {
  if (!/['"&<>\0]/.test(s)) return s;
  let out = '';
  for (const c of s) {
    switch (c) {
      case '\0':
        out += '\uFFFD';
        break;
      case '"':
        out += '&#34;';
        break;
      case "'":
        out += '&#39;';
        break;
      case '&':
        out += '&amp;';
        break;
      case '<':
        out += '&lt;';
        break;
      case '>':
        out += '&gt;';
        break;
      default:
        out += c;
    }
  }
  return out;
}

const printable = /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u;

export function jsEscapeString(s: string): string {
  let out = '';
  for (const c of s) {
    const r = c.codePointAt(0)!;
    switch (c) {
      case '\\':
        out += '\\\\';
        continue;
      case "'":
        out += "\\'";
        continue;
      case '"':
        out += '\\"';
        continue;
      case '<':
        out += '\\u003C';
        continue;
      case '>':
        out += '\\u003E';
        continue;
      case '&':
        out += '\\u0026';
        continue;
      case '=':
        out += '\\u003D';
        continue;
    }
    if (r < 0x20) out += '\\u00' + r.toString(16).toUpperCase().padStart(2, '0');
    else if (r < 0x80) out += c;
    else if (printable.test(c) && !(r >= 0xd800 && r <= 0xdfff)) out += c;
    else out += '\\u' + r.toString(16).toUpperCase().padStart(4, '0');
  }
  return out;
}

/** url.QueryEscape */
export function queryEscape(s: string): string {
  let out = '';
  for (const b of utf8Bytes(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (b === 0x20) out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

export function builtinFuncs(): Map<string, FuncSpec> {
  const V = 'value';
  const m = new Map<string, FuncSpec>();
  const add = (name: string, params: string[], fn: FuncSpec['fn'], variadic?: string) =>
    m.set(name, variadic === undefined ? { params, fn } : { params, variadic, fn });
  add('and', [V], () => undefined, V);
  add('or', [V], () => undefined, V);
  add('not', [V], (v: unknown) => !truth(v));
  add('len', [V], length);
  add('index', [V], index, V);
  add('slice', [V], slice, V);
  add('call', [V], call, V);
  add('print', [], (...a: unknown[]) => sprint(a), 'any');
  add('printf', ['string'], (f: string, ...a: unknown[]) => sprintf(f, a), 'any');
  add('println', [], (...a: unknown[]) => sprintln(a), 'any');
  add('html', [], (...a: unknown[]) => htmlEscapeString(evalArgs(a)), 'any');
  add('js', [], (...a: unknown[]) => jsEscapeString(evalArgs(a)), 'any');
  add('urlquery', [], (...a: unknown[]) => queryEscape(evalArgs(a)), 'any');
  add('eq', [V], eq, V);
  add('ne', [V, V], (a: unknown, b: unknown) => !eq(a, b));
  add('lt', [V, V], lt);
  add('le', [V, V], le);
  add('gt', [V, V], (a: unknown, b: unknown) => !le(a, b));
  add('ge', [V, V], (a: unknown, b: unknown) => !lt(a, b));
  return m;
}

export { GoStruct };
