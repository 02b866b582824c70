/**
 * A small decoder kit: each decoder both checks a located YAML value (reporting every problem with its line
 * and column, and going on) and describes itself as JSON Schema. The manifest's shape is written once with
 * these (schema.ts), so the loader and `tend schema` cannot drift apart.
 *
 * Why not zod + z.toJSONSchema, or a JSON Schema checked by ajv: both report errors as paths into a plain
 * object, so positions, "did you mean", messages for durations and signals, and `${VAR}` strings standing in
 * for booleans and numbers would all need a second layer that re-walks the YAML anyway. Decoding the located
 * tree directly gives exact positions for free and keeps each rule (and its message) next to its schema.
 */

import { didYouMean, nearest } from './suggest.js';
import { fromJS, type LNode, type Pos } from './tree.js';
import { formatDuration, parseDuration, parseSize, UnitError } from './units.js';

export type JsonSchema = { [k: string]: unknown };
export type Path = ReadonlyArray<string | number>;

export const INVALID: unique symbol = Symbol('invalid');
export type Invalid = typeof INVALID;

export interface Cx {
  /** the manifest's folder: relative paths resolve against it */
  dir: string;
  error(pos: Pos, message: string): void;
}

export interface Decoder<T> {
  /** what a value must be, for messages: "a duration such as 10s" */
  readonly expected: string;
  schema(): JsonSchema;
  decode(node: LNode, cx: Cx, path: Path): T | Invalid;
}

export type Out<D> = D extends Decoder<infer T> ? T : never;

// ---------------------------------------------------------------------------------------------------------
// messages

/** `services.web.restart.backoff`, `notify[2]`, `services["my.svc"]` */
export function pathText(path: Path): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(p)) s += s === '' ? p : `.${p}`;
    else s += `[${JSON.stringify(p)}]`;
  }
  return s === '' ? 'the manifest' : s;
}

/** where a key lives, for "unknown key ... in service "web"" style messages */
export function where(path: Path): string {
  if (path.length === 0) return 'at top level';
  if (path.length === 2 && path[0] === 'services') return `in service "${path[1]}"`;
  return `in ${pathText(path)}`;
}

export function describe(n: LNode): string {
  if (n.t === 'map') return 'a map';
  if (n.t === 'seq') return 'a list';
  const v = n.value;
  if (v === null) return 'nothing';
  if (typeof v === 'string') {
    if (v === '') return n.interpolated ? 'an empty string (after interpolation)' : 'an empty string';
    return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  }
  if (typeof v === 'number') return `the number ${n.raw}`;
  return String(v);
}

export function fail(cx: Cx, n: LNode, path: Path, message: string): Invalid {
  if (n.t === 'scalar' && n.broken) return INVALID;
  cx.error(n.pos, `${pathText(path)}: ${message}`);
  return INVALID;
}

function typeError(cx: Cx, n: LNode, path: Path, expected: string): Invalid {
  return fail(cx, n, path, `expected ${expected}, got ${describe(n)}`);
}

// ---------------------------------------------------------------------------------------------------------
// JSON Schema helpers

/** Any string containing `${`: a value that only gets its type after interpolation. */
export const INTERPOLATED: JsonSchema = {
  type: 'string',
  pattern: '\\$\\{',
  description: 'a string with a variable to interpolate; checked once interpolated',
};

/** `schema` or an interpolation expression, for values that are not plain strings. */
function orInterpolated(schema: JsonSchema, extra: JsonSchema = {}): JsonSchema {
  return { anyOf: [schema, INTERPOLATED], ...extra };
}

// ---------------------------------------------------------------------------------------------------------
// predicates for unions

export const isString = (n: LNode) => n.t === 'scalar' && typeof n.value === 'string';
export const isScalar = (n: LNode) => n.t === 'scalar' && n.value !== null;
export const isSeq = (n: LNode) => n.t === 'seq';
export const isMap = (n: LNode) => n.t === 'map';
export const isBoolean = (n: LNode) => n.t === 'scalar' && typeof n.value === 'boolean';

// ---------------------------------------------------------------------------------------------------------
// scalars

export function str(
  opts: { nonEmpty?: boolean; numbers?: boolean; expected?: string; schema?: JsonSchema } = {},
): Decoder<string> {
  const expected = opts.expected ?? (opts.numbers ? 'a string or a number' : 'a string');
  return {
    expected,
    schema: () =>
      opts.schema ??
      (opts.numbers
        ? { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] }
        : { type: 'string', ...(opts.nonEmpty ? { minLength: 1 } : {}) }),
    decode(n, cx, path) {
      if (n.t !== 'scalar') return typeError(cx, n, path, expected);
      const v = n.value;
      let s: string;
      if (typeof v === 'string') s = v;
      else if (opts.numbers && (typeof v === 'number' || typeof v === 'boolean')) s = n.raw;
      else return typeError(cx, n, path, expected);
      if (opts.nonEmpty && s.trim() === '') {
        return fail(cx, n, path, n.interpolated ? 'is empty after interpolation' : 'must not be empty');
      }
      return s;
    },
  };
}

const TRUE = new Set(['true', 'yes', 'on', '1']);
const FALSE = new Set(['false', 'no', 'off', '0']);

/** true/false, or (typically after interpolation) the strings true/false/yes/no/on/off/1/0 */
export function bool(): Decoder<boolean> {
  const expected = 'true or false';
  const words = [...TRUE, ...FALSE].flatMap((w) => [w, w[0].toUpperCase() + w.slice(1), w.toUpperCase()]);
  return {
    expected,
    schema: () => ({
      anyOf: [{ type: 'boolean' }, { enum: [...new Set(words)] }, { enum: [0, 1] }, INTERPOLATED],
    }),
    decode(n, cx, path) {
      if (n.t === 'scalar') {
        if (typeof n.value === 'boolean') return n.value;
        if (n.value === 0 || n.value === 1) return n.value === 1;
        if (typeof n.value === 'string') {
          const w = n.value.trim().toLowerCase();
          if (TRUE.has(w)) return true;
          if (FALSE.has(w)) return false;
        }
      }
      return typeError(cx, n, path, 'true or false (or yes/no, on/off, 1/0)');
    },
  };
}

export function int(opts: { min?: number; max?: number } = {}): Decoder<number> {
  const { min, max } = opts;
  const expected = 'an integer';
  return {
    expected,
    schema: () =>
      orInterpolated({
        type: 'integer',
        ...(min !== undefined ? { minimum: min } : {}),
        ...(max ? { maximum: max } : {}),
      }),
    decode(n, cx, path) {
      let v: number | undefined;
      if (n.t === 'scalar' && typeof n.value === 'number') v = n.value;
      else if (n.t === 'scalar' && typeof n.value === 'string' && /^\s*[+-]?\d+\s*$/.test(n.value))
        v = Number(n.value);
      if (v === undefined || !Number.isSafeInteger(v)) return typeError(cx, n, path, expected);
      if (min !== undefined && max !== undefined && (v < min || v > max)) {
        return fail(cx, n, path, `must be between ${min} and ${max}, got ${v}`);
      }
      if (min !== undefined && v < min) return fail(cx, n, path, `must be at least ${min}, got ${v}`);
      if (max !== undefined && v > max) return fail(cx, n, path, `must be at most ${max}, got ${v}`);
      return v;
    },
  };
}

export function enumOf<T extends string>(values: readonly T[], expected?: string): Decoder<T> {
  const list = expected ?? oneOfText(values);
  return {
    expected: list,
    schema: () => orInterpolated({ enum: [...values] }),
    decode(n, cx, path) {
      if (n.t === 'scalar' && typeof n.value === 'string') {
        const v = n.value.trim();
        if ((values as readonly string[]).includes(v)) return v as T;
        return fail(cx, n, path, `expected ${list}, got ${describe(n)}${didYouMean(v, values)}`);
      }
      return typeError(cx, n, path, list);
    },
  };
}

export function oneOfText(values: readonly string[]): string {
  const q = values.map((v) => `"${v}"`);
  return q.length <= 1 ? (q[0] ?? '') : `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}`;
}

const DURATION_PATTERN = '^(0|([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+)$|\\$\\{';

/**
 * milliseconds from `10s`, `1m30s`, ... (a bare 0 is fine). `min` refuses what would make tend spin (a probe
 * every 0 ms); the message says the floor and why.
 */
export function duration(opts: { min?: { ms: number; why: string } } = {}): Decoder<number> {
  const expected = 'a duration such as 100ms, 10s, 5m or 1h';
  const { min } = opts;
  return {
    expected,
    schema: () => ({ anyOf: [{ type: 'string', pattern: DURATION_PATTERN }, { const: 0 }] }),
    decode(n, cx, path) {
      if (n.t !== 'scalar' || (typeof n.value !== 'string' && typeof n.value !== 'number')) {
        return typeError(cx, n, path, expected);
      }
      let ms: number;
      try {
        ms = parseDuration(typeof n.value === 'number' ? n.raw : n.value);
      } catch (e) {
        if (e instanceof UnitError) return fail(cx, n, path, e.message);
        throw e;
      }
      if (min && ms < min.ms) {
        return fail(cx, n, path, `must be at least ${formatDuration(min.ms)}, got ${n.raw}: ${min.why}`);
      }
      return ms;
    },
  };
}

/** bytes from `512B`, `10MB`, ... */
export function size(): Decoder<number> {
  const expected = 'a size such as 512B, 10MB or 1GB';
  return {
    expected,
    schema: () => ({
      anyOf: [
        { type: 'string', pattern: '^(0|[0-9]+(\\.[0-9]+)?([bB]|[kKmMgGtT][iI]?[bB]))$|\\$\\{' },
        { const: 0 },
      ],
    }),
    decode(n, cx, path) {
      if (n.t !== 'scalar' || (typeof n.value !== 'string' && typeof n.value !== 'number')) {
        return typeError(cx, n, path, expected);
      }
      try {
        return parseSize(typeof n.value === 'number' ? n.raw : n.value);
      } catch (e) {
        if (e instanceof UnitError) return fail(cx, n, path, e.message);
        throw e;
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// combinators

/** Transforms a decoded value; `f` may report an error itself (with `fail`) and return INVALID. */
export function map<A, B>(
  d: Decoder<A>,
  f: (a: A, n: LNode, cx: Cx, path: Path) => B | Invalid,
  schema?: (inner: JsonSchema) => JsonSchema,
): Decoder<B> {
  return {
    expected: d.expected,
    schema: () => (schema ? schema(d.schema()) : d.schema()),
    decode(n, cx, path) {
      const a = d.decode(n, cx, path);
      return a === INVALID ? INVALID : f(a, n, cx, path);
    },
  };
}

/** The first branch whose predicate matches the node decides; none matching is a type error. */
export function union<T>(branches: Array<[(n: LNode) => boolean, Decoder<T>]>, expected: string): Decoder<T> {
  return {
    expected,
    schema: () => ({ anyOf: branches.map(([, d]) => d.schema()) }),
    decode(n, cx, path) {
      for (const [when, d] of branches) if (when(n)) return d.decode(n, cx, path);
      return typeError(cx, n, path, expected);
    },
  };
}

export function list<T>(
  item: Decoder<T>,
  opts: { nonEmpty?: boolean; expected?: string } = {},
): Decoder<T[]> {
  const expected = opts.expected ?? `a list of ${item.expected.replace(/^an? /, '')}s`;
  return {
    expected,
    schema: () => ({ type: 'array', items: item.schema(), ...(opts.nonEmpty ? { minItems: 1 } : {}) }),
    decode(n, cx, path) {
      if (n.t !== 'seq') return typeError(cx, n, path, expected);
      if (opts.nonEmpty && n.items.length === 0) return fail(cx, n, path, 'must not be an empty list');
      const out: T[] = [];
      let ok = true;
      n.items.forEach((x, i) => {
        const v = item.decode(x, cx, [...path, i]);
        if (v === INVALID) ok = false;
        else out.push(v);
      });
      return ok ? out : INVALID;
    },
  };
}

export interface Entry<T> {
  key: string;
  pos: Pos;
  value: T;
}

/** A map with free keys (env, services); `key` may refuse a key (reporting it) by returning false. */
export function entries<T>(
  value: Decoder<T>,
  opts: {
    key?: (k: string, pos: Pos, cx: Cx, path: Path) => boolean;
    expected?: string;
    keySchema?: JsonSchema;
  } = {},
): Decoder<Entry<T>[]> {
  const expected = opts.expected ?? 'a map';
  return {
    expected,
    schema: () => ({
      type: 'object',
      additionalProperties: value.schema(),
      ...(opts.keySchema ? { propertyNames: opts.keySchema } : {}),
    }),
    decode(n, cx, path) {
      if (n.t === 'scalar' && n.value === null) return [];
      if (n.t !== 'map') return typeError(cx, n, path, expected);
      const out: Entry<T>[] = [];
      let ok = true;
      for (const e of n.entries) {
        if (opts.key && !opts.key(e.key, e.keyPos, cx, path)) {
          ok = false;
          continue;
        }
        const v = value.decode(e.value, cx, [...path, e.key]);
        if (v === INVALID) ok = false;
        else out.push({ key: e.key, pos: e.keyPos, value: v });
      }
      return ok ? out : INVALID;
    },
  };
}

export function record<T>(
  value: Decoder<T>,
  opts: Parameters<typeof entries>[1] = {},
): Decoder<Record<string, T>> {
  return map(entries(value, opts), (es) => Object.fromEntries(es.map((e) => [e.key, e.value])));
}

/** Keeps where a value was written, for checks made after decoding (`after: [db]` naming an unknown service). */
export function located<T>(d: Decoder<T>): Decoder<{ value: T; pos: Pos }> {
  return map(d, (value, n) => ({ value, pos: n.pos }));
}

/** Any YAML value as plain data (inline settings defaults). */
export function anyValue(expected = 'a map'): Decoder<Record<string, unknown>> {
  const plain = (n: LNode): unknown =>
    n.t === 'scalar'
      ? n.value
      : n.t === 'seq'
        ? n.items.map(plain)
        : Object.fromEntries(n.entries.map((e) => [e.key, plain(e.value)]));
  return {
    expected,
    schema: () => ({ type: 'object' }),
    decode(n, cx, path) {
      if (n.t !== 'map') return typeError(cx, n, path, expected);
      return plain(n) as Record<string, unknown>;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// objects

export interface Field<T, Present extends boolean> {
  readonly decoder: Decoder<T>;
  readonly present: Present;
  readonly required: boolean;
  readonly default?: unknown;
  readonly description: string;
}

export type Shape = Record<string, Field<unknown, boolean>>;

export type ObjOut<S extends Shape> = {
  [K in keyof S]: S[K] extends Field<infer T, true>
    ? T
    : S[K] extends Field<infer T, boolean>
      ? T | undefined
      : never;
};

/** A key that must be there. */
export function req<T>(decoder: Decoder<T>, description: string): Field<T, true> {
  return { decoder, present: true, required: true, description };
}

/** A key that may be left out (undefined). */
export function opt<T>(decoder: Decoder<T>, description: string): Field<T, false> {
  return { decoder, present: false, required: false, description };
}

/** A key with a default, written as it would be in YAML and decoded like a written value. */
export function def<T>(decoder: Decoder<T>, dflt: unknown, description: string): Field<T, true> {
  return { decoder, present: true, required: false, default: dflt, description };
}

interface Located {
  map: Pos;
  keys: Record<string, Pos>;
}
const positions = new WeakMap<object, Located>();

/** Where key `k` of a decoded object was written (undefined when it was left out). */
export function keyPos(o: object, k: string): Pos | undefined {
  return positions.get(o)?.keys[k];
}

/** Where a decoded object was written. */
export function mapPos(o: object): Pos | undefined {
  return positions.get(o)?.map;
}

/**
 * Unset means left out, `null` (`key:` with nothing after it), or a `${VAR}` that came out empty; the
 * last rule lets `http: ${TEND_HTTP}` mean "no listener" rather than "an invalid address".
 */
function unset(n: LNode): boolean {
  return n.t === 'scalar' && (n.value === null || (n.interpolated && n.value === ''));
}

export function obj<S extends Shape>(
  shape: S,
  opts: { expected?: string; description?: string; hints?: Record<string, string> } = {},
): Decoder<ObjOut<S>> {
  const keys = Object.keys(shape);
  const expected = opts.expected ?? 'a map';
  return {
    expected,
    schema: () => {
      const properties: Record<string, JsonSchema> = {};
      const required: string[] = [];
      for (const [k, f] of Object.entries(shape)) {
        properties[k] = {
          ...f.decoder.schema(),
          description: f.description,
          ...(f.default !== undefined ? { default: f.default } : {}),
        };
        if (f.required) required.push(k);
      }
      return {
        type: 'object',
        ...(opts.description ? { description: opts.description } : {}),
        properties,
        // `x-` keys are free, as in compose files: a place for YAML anchors shared by several services.
        patternProperties: { '^x-': {} },
        additionalProperties: false,
        ...(required.length ? { required } : {}),
      };
    },
    decode(n, cx, path) {
      if (n.t !== 'map' && !(n.t === 'scalar' && n.value === null)) return typeError(cx, n, path, expected);
      const given = new Map<string, { keyPos: Pos; value: LNode }>();
      // A misspelt required key is one mistake: "did you mean" says it, "missing" would repeat it.
      const suggested = new Set<string>();
      let ok = true;
      for (const e of n.t === 'map' ? n.entries : []) {
        if (Object.hasOwn(shape, e.key)) given.set(e.key, e);
        else if (e.key.startsWith('x-')) continue;
        else {
          ok = false;
          const hint = opts.hints?.[e.key];
          const nearKey = nearest(e.key, keys);
          if (nearKey) suggested.add(nearKey);
          const near = nearKey ? `; did you mean "${nearKey}"?` : '';
          const valid = !near && keys.length <= 8 ? `; valid keys: ${keys.join(', ')}` : '';
          cx.error(e.keyPos, `unknown key "${e.key}" ${where(path)}${hint ? `: ${hint}` : near || valid}`);
        }
      }
      const out: Record<string, unknown> = {};
      const located: Located = { map: n.pos, keys: {} };
      for (const [k, f] of Object.entries(shape)) {
        const g = given.get(k);
        if (g) located.keys[k] = g.keyPos;
        let node: LNode | undefined = g && !unset(g.value) ? g.value : undefined;
        if (!node && f.required) {
          ok = false;
          if (g?.value.t === 'scalar' && g.value.broken) continue;
          if (g) {
            const empty = g.value.t === 'scalar' && g.value.interpolated;
            const msg = empty ? 'is empty after interpolation' : 'needs a value';
            cx.error(empty ? g.value.pos : g.keyPos, `${pathText([...path, k])}: ${msg}`);
          } else if (!suggested.has(k)) cx.error(n.pos, `missing required key "${k}" ${where(path)}`);
          continue;
        }
        if (!node && f.default !== undefined) node = fromJS(f.default, g?.keyPos ?? n.pos);
        if (!node) {
          out[k] = undefined;
          continue;
        }
        const v = f.decoder.decode(node, cx, [...path, k]);
        if (v === INVALID) ok = false;
        else out[k] = v;
      }
      if (!ok) return INVALID;
      positions.set(out, located);
      return out as ObjOut<S>;
    },
  };
}

/**
 * A map that is one of several kinds, told apart by which key it has (`{ http: URL }` or `{ tcp: ADDR }`).
 * Each case is a full `obj` decoder, so unknown keys are checked against that kind's own keys.
 */
export function variant<T>(
  cases: Record<string, Decoder<T>>,
  opts: { noun: string; hints?: Record<string, string> },
): Decoder<T> {
  const kinds = Object.keys(cases);
  const expected = `${opts.noun}: a map with one of ${oneOfText(kinds)}`;
  return {
    expected,
    schema: () => ({ oneOf: kinds.map((k) => cases[k].schema()) }),
    decode(n, cx, path) {
      if (n.t !== 'map') return typeError(cx, n, path, expected);
      const present = n.entries.filter((e) => kinds.includes(e.key));
      if (present.length > 1) {
        return fail(
          cx,
          { ...n, pos: present[1].keyPos },
          path,
          `"${present[0].key}" and "${present[1].key}" cannot be combined; a ${opts.noun} has exactly one of ${oneOfText(kinds)}`,
        );
      }
      if (present.length === 0) {
        // A typo of the kind key is the likeliest cause; say that rather than "needs one of".
        let typo = false;
        for (const e of n.entries) {
          const hint = opts.hints?.[e.key];
          const near = nearest(e.key, kinds);
          if (hint || near) {
            typo = true;
            cx.error(
              e.keyPos,
              `unknown key "${e.key}" ${where(path)}${hint ? `: ${hint}` : `; did you mean "${near}"?`}`,
            );
          }
        }
        return typo ? INVALID : fail(cx, n, path, `a ${opts.noun} needs one of ${oneOfText(kinds)}`);
      }
      return cases[present[0].key].decode(n, cx, path);
    },
  };
}

/** A single-key map around `n`, so a shorthand (`monitor: ./bin/monitor`) decodes like its long form. */
export function wrap(key: string, n: LNode): LNode {
  return { t: 'map', entries: [{ key, keyPos: n.pos, value: n }], pos: n.pos };
}
