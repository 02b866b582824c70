/** sprig's list, dict, default, JSON and reflection functions (sprig v3.2.3 semantics). */

import { toJSON } from './encode.js';
import type { FuncSpec } from './exec.js';
import { sprint } from './fmt.js';
import {
  appendedCap,
  capOf,
  deepEqual,
  empty,
  growCap,
  ifaces,
  listArg,
  nilDeref,
  reflectKind,
  strings,
  strval,
  toInt64,
} from './sprig-core.js';
import { zeroVersion } from './sprig-semver.js';
import { float, GoStruct, goTypeOf, isMap, sortedKeys, typed } from './values.js';

type Def = (name: string, params: string[], fn: FuncSpec['fn'], variadic?: string) => void;
const MAP = 'map[string]interface {}';

/** Define `name` (panics, which Go reports like errors) and `mustName` (returns the error). */
function both(def: Def, name: string, params: string[], fn: FuncSpec['fn'], variadic?: string): void {
  def(name, params, fn, variadic);
  def('must' + name[0].toUpperCase() + name.slice(1), params, fn, variadic);
}

/** Go's `%s` of a value inside an error built with fmt.Sprintf("%s", kind). */
function copyList(v: unknown, msg: (k: string) => string): unknown[] {
  return [...listArg(v, msg)];
}

function mergeInto(dst: Record<string, unknown>, src: Record<string, unknown>, overwrite: boolean): void {
  // mergo (as sprig calls it): maps merge recursively; a value fills a missing or empty one, or
  // replaces any value with overwrite; a non-empty value is never replaced by a map or a slice.
  for (const k of Object.keys(src)) {
    const s = src[k];
    const has = Object.hasOwn(dst, k);
    const d = dst[k];
    if (s === null) {
      if (overwrite) dst[k] = null;
      continue;
    }
    if (isMap(s) && has && isMap(d)) mergeInto(d, s, overwrite);
    if (has && !empty(d) && (isMap(s) || Array.isArray(s))) continue;
    if (overwrite || !has || empty(d)) dst[k] = s;
  }
}

function deepCopy(v: unknown): unknown {
  if (v instanceof GoStruct && v.typeName === '*semver.Version') return zeroVersion();
  if (Array.isArray(v)) return typed(v.map(deepCopy), goTypeOf(v).slice(2));
  if (isMap(v)) {
    const out: Record<string, unknown> = typed({}, goTypeOf(v).replace(/^map\[string\]/, ''));
    for (const k of Object.keys(v)) out[k] = deepCopy(v[k]);
    return out;
  }
  return v;
}

function dig(keys: unknown[], def: unknown, dict: unknown): unknown {
  let cur = dict;
  for (let i = 0; i < keys.length; i++) {
    if (!isMap(cur) || goTypeOf(cur) !== MAP) {
      throw new Error(
        `interface conversion: interface {} is ${cur === null ? 'nil' : goTypeOf(cur)}, not ${MAP}`,
      );
    }
    const k = keys[i];
    if (typeof k !== 'string') {
      throw new Error(
        `interface conversion: interface {} is ${k === null ? 'nil' : goTypeOf(k)}, not string`,
      );
    }
    if (!Object.hasOwn(cur, k)) return def;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

export function defineLists(def: Def): void {
  const list = (...v: unknown[]) => ifaces(v);
  def('list', [], list, 'any');
  def('tuple', [], list, 'any');
  both(def, 'push', ['any', 'any'], (l: unknown, v: unknown) => {
    const a = copyList(l, (k) => `Cannot push on type ${k}`);
    const cap = a.length;
    a.push(v);
    return ifaces(a, growCap(cap, a.length, 16));
  });
  both(def, 'append', ['any', 'any'], (l: unknown, v: unknown) => {
    const a = copyList(l, (k) => `Cannot push on type ${k}`);
    const cap = a.length;
    a.push(v);
    return ifaces(a, growCap(cap, a.length, 16));
  });
  both(def, 'prepend', ['any', 'any'], (l: unknown, v: unknown) => {
    const a = copyList(l, (k) => `Cannot prepend on type ${k}`);
    // append([]interface{}{v}, nl...)
    const out = [v, ...a];
    return ifaces(out, a.length === 0 ? 1 : growCap(1, out.length, 16));
  });
  both(def, 'chunk', ['int', 'any'], (size: number, l: unknown) => {
    const a = listArg(l, (k) => `Cannot chunk type ${k}`);
    // sprig computes the chunk count in floating point; a size of 0 or below makes Go's
    // make() fail (an infinite or negative length) rather than loop.
    const makeslice = () => new Error('runtime error: makeslice: len out of range');
    const cs = Math.floor((a.length - 1) / size) + 1;
    if (!Number.isFinite(cs) || cs < 0) throw makeslice();
    const out: unknown[][] = [];
    for (let i = 0; i < cs; i++) {
      let clen = size;
      if (i === cs - 1) {
        clen = Math.floor(a.length % size);
        if (clen === 0) clen = size;
      }
      if (clen < 0) throw makeslice();
      const chunk: unknown[] = [];
      for (let j = 0; j < clen; j++) {
        const ix = i * size + j;
        if (ix < 0 || ix >= a.length) throw new Error('reflect: slice index out of range');
        chunk.push(a[ix]);
      }
      out.push(ifaces(chunk));
    }
    return ifaces(typed(out, '[]interface {}'));
  });
  both(def, 'first', ['any'], (l: unknown) => {
    const a = listArg(l, (k) => `Cannot find first on type ${k}`);
    return a.length === 0 ? undefined : a[0];
  });
  both(def, 'last', ['any'], (l: unknown) => {
    const a = listArg(l, (k) => `Cannot find last on type ${k}`);
    return a.length === 0 ? undefined : a[a.length - 1];
  });
  both(def, 'rest', ['any'], (l: unknown) =>
    ifaces(listArg(l, (k) => `Cannot find rest on type ${k}`).slice(1)),
  );
  both(def, 'initial', ['any'], (l: unknown) =>
    ifaces(listArg(l, (k) => `Cannot find initial on type ${k}`).slice(0, -1)),
  );
  both(def, 'reverse', ['any'], (l: unknown) =>
    ifaces([...listArg(l, (k) => `Cannot find reverse on type ${k}`)].reverse()),
  );
  both(def, 'compact', ['any'], (l: unknown) => {
    const out = listArg(l, (k) => `Cannot compact on type ${k}`).filter((x) => !empty(x));
    return ifaces(out, appendedCap(out.length));
  });
  both(def, 'uniq', ['any'], (l: unknown) => {
    const out: unknown[] = [];
    for (const x of listArg(l, (k) => `Cannot find uniq on type ${k}`))
      if (!out.some((y) => deepEqual(x, y))) out.push(x);
    return ifaces(out, appendedCap(out.length));
  });
  both(
    def,
    'without',
    ['any'],
    (l: unknown, ...omit: unknown[]) => {
      const out = listArg(l, (k) => `Cannot find without on type ${k}`).filter(
        (x) => !omit.some((o) => deepEqual(x, o)),
      );
      return ifaces(out, appendedCap(out.length));
    },
    'any',
  );
  both(def, 'has', ['any', 'any'], (needle: unknown, hay: unknown) => {
    if (hay === null || hay === undefined) return false;
    return listArg(hay, (k) => `Cannot find has on type ${k}`).some((x) => deepEqual(needle, x));
  });
  both(
    def,
    'slice',
    ['any'],
    (l: unknown, ...idx: unknown[]) => {
      const a = listArg(l, (k) => `list should be type of slice or array but ${k}`);
      if (a.length === 0) return undefined;
      const start = idx.length > 0 ? Number(toInt64(idx[0])) : 0;
      const end = idx.length < 2 ? a.length : Number(toInt64(idx[1]));
      const cap = capOf(a);
      if (start < 0 || end < start || end > cap)
        throw new Error('reflect.Value.Slice: slice index out of bounds');
      // Go may slice past the length up to the capacity: those elements are nil.
      const out = a.slice(start, end);
      while (out.length < end - start) out.push(null);
      const t = goTypeOf(a);
      return withType(withCapKeep(out, cap - start), t);
    },
    'any',
  );
  def(
    'concat',
    [],
    (...lists: unknown[]) => {
      const out: unknown[] = [];
      for (const l of lists) {
        if (l === null || l === undefined) throw nilDeref();
        if (!Array.isArray(l)) throw new Error(`Cannot concat type ${reflectKind(l)} as list`);
        out.push(...l);
      }
      return ifaces(out, appendedCap(out.length));
    },
    'any',
  );

  // dicts
  def(
    'dict',
    [],
    (...v: unknown[]) => {
      const d: Record<string, unknown> = {};
      for (let i = 0; i < v.length; i += 2) d[strval(v[i])] = i + 1 < v.length ? v[i + 1] : '';
      return d;
    },
    'any',
  );
  def('get', [MAP, 'string'], (d: Record<string, unknown> | null, k: string) =>
    d && Object.hasOwn(d, k) ? nilToUndef(d[k]) : '',
  );
  def('set', [MAP, 'string', 'any'], (d: Record<string, unknown> | null, k: string, v: unknown) => {
    if (d === null) throw new Error('assignment to entry in nil map');
    d[k] = v;
    return d;
  });
  def('unset', [MAP, 'string'], (d: Record<string, unknown> | null, k: string) => {
    if (d) delete d[k];
    return d;
  });
  def(
    'hasKey',
    [MAP, 'string'],
    (d: Record<string, unknown> | null, k: string) => d !== null && Object.hasOwn(d, k),
  );
  def(
    'pluck',
    ['string'],
    (k: string, ...ds: (Record<string, unknown> | null)[]) => {
      const out = ds.filter((d) => d && Object.hasOwn(d, k)).map((d) => d![k]);
      return ifaces(out, appendedCap(out.length));
    },
    MAP,
  );
  def(
    'keys',
    [],
    (...ds: (Record<string, unknown> | null)[]) => {
      // Go's map order is random; tend gives each map's keys sorted.
      const out = ds.flatMap((d) => (d ? sortedKeys(d) : []));
      return strings(out);
    },
    MAP,
  );
  def('values', [MAP], (d: Record<string, unknown> | null) => {
    const out = d ? sortedKeys(d).map((k) => d[k]) : [];
    return ifaces(out, appendedCap(out.length));
  });
  def(
    'pick',
    [MAP],
    (d: Record<string, unknown> | null, ...ks: string[]) => {
      const out: Record<string, unknown> = {};
      for (const k of ks) if (d && Object.hasOwn(d, k)) out[k] = d[k];
      return out;
    },
    'string',
  );
  def(
    'omit',
    [MAP],
    (d: Record<string, unknown> | null, ...ks: string[]) => {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(d ?? {})) if (!ks.includes(k)) out[k] = d![k];
      return out;
    },
    'string',
  );
  const merge =
    (overwrite: boolean) =>
    (dst: Record<string, unknown> | null, ...srcs: (Record<string, unknown> | null)[]) => {
      const d = dst ?? {};
      for (const s of srcs) if (s) mergeInto(d, s, overwrite);
      return d;
    };
  both(def, 'merge', [MAP], merge(false), MAP);
  both(def, 'mergeOverwrite', [MAP], merge(true), MAP);
  def(
    'dig',
    [],
    (...ps: unknown[]) => {
      if (ps.length < 3) throw new Error('dig needs at least three arguments');
      const dict = ps[ps.length - 1];
      if (!isMap(dict) || goTypeOf(dict) !== MAP) {
        throw new Error(
          `interface conversion: interface {} is ${dict === null ? 'nil' : goTypeOf(dict)}, not ${MAP}`,
        );
      }
      return nilToUndef(dig(ps.slice(0, -2), ps[ps.length - 2], dict));
    },
    'any',
  );
  both(def, 'deepCopy', ['any'], (v: unknown) => {
    if (v === null || v === undefined) throw new Error('reflect: call of reflect.Value.Type on zero Value');
    return deepCopy(v);
  });

  // defaults
  def(
    'default',
    ['any'],
    (d: unknown, ...given: unknown[]) =>
      given.length === 0 || empty(given[0]) ? nilToUndef(d) : nilToUndef(given[0]),
    'any',
  );
  def('empty', ['any'], empty);
  def('coalesce', [], (...v: unknown[]) => nilToUndef(v.find((x) => !empty(x))), 'any');
  def('all', [], (...v: unknown[]) => v.every((x) => !empty(x)), 'any');
  def('any', [], (...v: unknown[]) => v.some((x) => !empty(x)), 'any');
  def('ternary', ['any', 'any', 'bool'], (a: unknown, b: unknown, c: boolean) => nilToUndef(c ? a : b));
  def('fail', ['string'], (msg: string) => {
    throw new Error(msg);
  });

  // JSON
  def('fromJson', ['string'], (s: string) => {
    try {
      return nilToUndef(fromJSON(s));
    } catch {
      return undefined;
    }
  });
  def('mustFromJson', ['string'], (s: string) => nilToUndef(fromJSON(s)));
  const json = (indent: string, raw: boolean, must: boolean) => (v: unknown) => {
    try {
      const s = toJSON(jsonable(v), indent);
      // toRawJson: Go's encoder without HTML escaping. Only an escape that is not itself
      // escaped (an even run of backslashes before it) is undone.
      if (!raw) return s;
      return s.replace(
        /(?<!\\)((?:\\\\)*)\\u00(3c|3e|26)/g,
        (_m, bs: string, h: string) => bs + String.fromCharCode(Number.parseInt(h, 16)),
      );
    } catch (e) {
      if (must || raw) throw e;
      return '';
    }
  };
  def('toJson', ['any'], json('', false, false));
  def('mustToJson', ['any'], json('', false, true));
  def('toPrettyJson', ['any'], json('  ', false, false));
  def('mustToPrettyJson', ['any'], json('  ', false, true));
  def('toRawJson', ['any'], json('', true, true));
  def('mustToRawJson', ['any'], json('', true, true));

  // reflection
  def('typeOf', ['any'], (v: unknown) => goTypeOf(v));
  def('typeIs', ['string', 'any'], (t: string, v: unknown) => t === goTypeOf(v));
  def(
    'typeIsLike',
    ['string', 'any'],
    (t: string, v: unknown) => t === goTypeOf(v) || '*' + t === goTypeOf(v),
  );
  def('kindOf', ['any'], reflectKind);
  def('kindIs', ['string', 'any'], (t: string, v: unknown) => t === reflectKind(v));
  def('deepEqual', ['any', 'any'], deepEqual);
}

/** Values as encoding/json sees them: a *semver.Version marshals as its string. */
function jsonable(v: unknown): unknown {
  if (v instanceof GoStruct && v.typeName === '*semver.Version' && v.methods.String)
    return v.methods.String.fn();
  if (Array.isArray(v))
    return v.some((x) => x instanceof GoStruct || Array.isArray(x) || isMap(x)) ? v.map(jsonable) : v;
  if (isMap(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) out[k] = jsonable(v[k]);
    return out;
  }
  return v;
}

/** A nil interface{} returned by a function reads as Go's invalid value (prints `<no value>`). */
function nilToUndef(v: unknown): unknown {
  return v === null ? undefined : v;
}

function withCapKeep<T extends unknown[]>(a: T, cap: number): T {
  return ifaces(a, cap) as T;
}

function withType<T extends unknown[]>(a: T, t: string): T {
  return t.startsWith('[]') ? typed(a, t.slice(2)) : a;
}

/** encoding/json into interface{}: every number is a float64. */
function fromJSON(s: string): unknown {
  const err = jsonSyntaxError(s);
  if (err) throw new Error(err);
  return JSON.parse(s, (_k, x) => (typeof x === 'number' ? float(x) : x));
}

/** encoding/json's syntax error for a document JSON.parse refuses, or null when it is valid. */
function jsonSyntaxError(s: string): string | null {
  let i = 0;
  const ch = () => {
    const c = s[i];
    return c === "'" ? "'\\''" : `'${c}'`;
  };
  const ws = () => {
    while (i < s.length && ' \t\n\r'.includes(s[i])) i++;
  };
  class Bad extends Error {}
  // At the end of the input Go's scanner reads one more space: inside a literal or a number
  // that is the error it reports; elsewhere the input just ended.
  const fail = (ctx: string, spaceAtEnd = false): never => {
    if (i >= s.length) {
      if (spaceAtEnd) throw new Bad(`invalid character ' ' ${ctx}`);
      throw new Bad('unexpected end of JSON input');
    }
    throw new Bad(`invalid character ${ch()} ${ctx}`);
  };
  const value = (): void => {
    ws();
    const c = s[i];
    if (c === '{') {
      i++;
      ws();
      if (s[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (s[i] !== '"') fail('looking for beginning of object key string');
        str();
        ws();
        if (s[i] !== ':') fail('after object key');
        i++;
        value();
        ws();
        if (s[i] === ',') {
          i++;
          continue;
        }
        if (s[i] === '}') {
          i++;
          return;
        }
        fail('after object key:value pair');
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (s[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (s[i] === ',') {
          i++;
          continue;
        }
        if (s[i] === ']') {
          i++;
          return;
        }
        fail('after array element');
      }
    }
    if (c === '"') {
      str();
      return;
    }
    for (const lit of ['true', 'false', 'null']) {
      if (c === lit[0]) {
        for (let k = 0; k < lit.length; k++, i++)
          if (s[i] !== lit[k]) fail(`in literal ${lit} (expecting '${lit[k]}')`, true);
        return;
      }
    }
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      if (c === '-') i++;
      if (s[i] === '0') i++;
      else if (s[i] !== undefined && s[i] >= '1' && s[i] <= '9') while (/[0-9]/.test(s[i] ?? '')) i++;
      else fail('in numeric literal', true);
      if (s[i] === '.') {
        i++;
        if (!/[0-9]/.test(s[i] ?? '')) fail('after decimal point in numeric literal', true);
        while (/[0-9]/.test(s[i] ?? '')) i++;
      }
      if (s[i] === 'e' || s[i] === 'E') {
        i++;
        if (s[i] === '+' || s[i] === '-') i++;
        if (!/[0-9]/.test(s[i] ?? '')) fail('in exponent of numeric literal', true);
        while (/[0-9]/.test(s[i] ?? '')) i++;
      }
      return;
    }
    fail('looking for beginning of value');
  };
  const str = (): void => {
    i++;
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\') i++;
      else if (s.charCodeAt(i) < 0x20) fail('in string literal');
      i++;
    }
    if (i >= s.length) fail('');
    i++;
  };
  try {
    value();
    ws();
    if (i < s.length) fail('after top-level value');
    return null;
  } catch (e) {
    if (e instanceof Bad) return e.message;
    throw e;
  }
}

export { GoStruct, sprint };
