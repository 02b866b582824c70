/**
 * Deep merge that remembers, for every value it writes, which source wrote it, so a schema error can say
 * "from $CFG" instead of leaving the operator to diff four layers by hand.
 *
 * Objects merge key by key; arrays and scalars replace. Inputs are never mutated: the plan's inline
 * defaults are shared with the rest of tend.
 */

export type Json = unknown;
export type JsonObject = Record<string, unknown>;

/** path (segments joined by NUL, which no sane key contains) → label of the source that set it */
export type Origins = Map<string, string>;

export function isPlainObject(v: unknown): v is JsonObject {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const SEP = '\u0000';
const keyOf = (path: readonly string[]) => path.join(SEP);

function forgetUnder(origins: Origins, path: readonly string[]) {
  const k = keyOf(path);
  for (const existing of origins.keys()) {
    if (existing === k || existing.startsWith(k + SEP)) origins.delete(existing);
  }
}

/** Own-property read: a settings key named `constructor` must not find Object.prototype's. */
export function own(obj: JsonObject, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

export function mergeInto(base: Json, over: Json, path: string[], label: string, origins: Origins): Json {
  if (isPlainObject(over)) {
    let out: JsonObject;
    if (isPlainObject(base)) {
      out = { ...base };
    } else {
      forgetUnder(origins, path);
      origins.set(keyOf(path), label);
      out = {};
    }
    for (const [k, v] of Object.entries(over)) {
      // JSON.parse makes `__proto__` an own key; assigning it would swap the object's prototype.
      if (k === '__proto__') continue;
      out[k] = mergeInto(own(out, k), v, [...path, k], label, origins);
    }
    return out;
  }
  forgetUnder(origins, path);
  origins.set(keyOf(path), label);
  return over === undefined ? undefined : structuredClone(over);
}

/**
 * Sets `value` at `segments` below `root`, the way a KV key `servers/0/host` addresses a value: numeric
 * segments index into an existing array, anything in the way that is not a container is replaced.
 */
export function overlayAt(
  node: Json,
  segments: string[],
  path: string[],
  value: Json,
  label: string,
  origins: Origins,
): Json {
  if (segments.length === 0) return mergeInto(node, value, path, label, origins);
  const [seg, ...rest] = segments;
  const here = [...path, seg];
  if (Array.isArray(node) && /^\d+$/.test(seg) && Number(seg) <= node.length) {
    const copy = node.slice();
    copy[Number(seg)] = overlayAt(copy[Number(seg)], rest, here, value, label, origins);
    return copy;
  }
  let obj: JsonObject;
  if (isPlainObject(node)) {
    obj = { ...node };
  } else {
    forgetUnder(origins, path);
    origins.set(keyOf(path), label);
    obj = {};
  }
  obj[seg] = overlayAt(own(obj, seg), rest, here, value, label, origins);
  return obj;
}

/** The source of the value at `path`, or of the nearest enclosing value that a source set as a whole. */
export function originOf(origins: Origins, path: readonly string[]): string | undefined {
  for (let n = path.length; n >= 0; n--) {
    const found = origins.get(keyOf(path.slice(0, n)));
    if (found !== undefined) return found;
  }
  return undefined;
}
