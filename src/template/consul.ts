/**
 * consul-template's function library, with its Go signatures (so argument errors read as in
 * consul-template) and its multi-pass semantics: a function whose data is not known yet
 * records it as missing and returns an empty result, and the render is retried later.
 */
import { createHash, createHmac } from 'node:crypto';
import { parse as yamlParse } from 'yaml';
import { boundedReplace, boundedTest } from './bounded-regexp.js';
import { addCatalogFuncs } from './catalog.js';
import { toJSON, toTOML, toYAML } from './encode.js';
import type { FuncSpec } from './exec.js';
import { quote, sprint } from './fmt.js';
import { parseGoFloat } from './parse.js';
import {
  disabledFunc,
  OLD_NAMES,
  runPluginSync,
  UNSUPPORTED,
  unsupportedFunc,
  writeToFileSync,
} from './policy.js';
import { sockaddrFunc } from './sockaddr/index.js';
import {
  type CatalogOptions,
  type CatalogService,
  fullInstance,
  type Recorder,
  type ServiceInstance,
  type ServiceOptions,
} from './source.js';
import { spewFuncs } from './spew.js';
import { sprigFuncs } from './sprig.js';
import {
  compareGoStrings,
  float,
  floatValue,
  GoChan,
  GoFloat,
  GoStruct,
  goTypeOf,
  intKeyed,
  isMap,
  Kind,
  kindOf,
  named,
  sortedKeys,
  typed,
} from './values.js';

const KEYPAIR = '*dependency.KeyPair';
const HEALTH = '*dependency.HealthService';
const SNIPPET = '*dependency.CatalogSnippet';

export interface ConsulFuncOptions {
  /** Allow `plugin` (runs programs). Off by default. */
  allowPlugin?: boolean;
  /** Allow `writeToFile`. Off by default. */
  allowWriteToFile?: boolean;
  /** Runs `executeTemplate NAME [DATA]` against the template being rendered. */
  executeTemplate?: (name: string, data: unknown) => string;
  /** Clock for `timestamp`; default `Date.now`. */
  now?: () => Date;
  /** Runs a plugin synchronously; default spawnSync with consul-template's 30 s timeout. */
  runPlugin?: (name: string, args: string[]) => string;
  /** Where spew_dump and spew_printf print (consul-template: its stdout); default tend's stderr. */
  debugPrint?: (text: string) => void;
  /** Writes a file for writeToFile (default: create or append, chown when a user or group is given, chmod). */
  writeFile?: (
    path: string,
    content: string,
    perms: number,
    append: boolean,
    owner: { user: string; group: string },
  ) => void;
}

function keyPair(path: string, key: string, value: string): GoStruct {
  return new GoStruct(KEYPAIR, {
    Path: path,
    Key: key,
    Value: value,
    Exists: true,
    CreateIndex: 0,
    ModifyIndex: 0,
    LockIndex: 0,
    Flags: 0,
    Session: '',
  });
}

function serviceTags(tags: string[]): string[] {
  return typed([...tags], 'string');
}

function tagsStruct(tags: string[]): string[] {
  const t = serviceTags(tags);
  return named(t, 'dependency.ServiceTags', {
    Contains: { params: ['string'], fn: (v: string) => t.includes(v) },
  });
}

function healthService(s: ServiceInstance): GoStruct {
  return new GoStruct(HEALTH, {
    Node: s.Node,
    NodeID: s.NodeID,
    Kind: s.Kind,
    NodeAddress: s.NodeAddress,
    NodeDatacenter: s.NodeDatacenter,
    NodeTaggedAddresses: typed({ ...s.NodeTaggedAddresses }, 'string'),
    NodeMeta: typed({ ...s.NodeMeta }, 'string'),
    ServiceMeta: typed({ ...s.ServiceMeta }, 'string'),
    Address: s.Address,
    ID: s.ID,
    Name: s.Name,
    Tags: tagsStruct(s.Tags),
    Checks: typed([], '*api.HealthCheck'),
    Status: s.Status,
    Port: s.Port,
    Namespace: s.Namespace,
  });
}

function catalogSnippet(s: CatalogService): GoStruct {
  return new GoStruct(SNIPPET, { Name: s.Name, Tags: serviceTags([...s.Tags].sort()) });
}

/** A parsed `service`/`connect` query: `[tag.]name[?query][@dc][~near][|filter]`. */
export interface ServiceQuery {
  name: string;
  tag?: string;
  dc?: string;
  near?: string;
  /** Sorted, as consul-template keeps them; `any` among them accepts every status. */
  statuses: string[];
  /** Consul namespace (`?ns=`), admin partition (`?partition=`), cluster peer (`?peer=`), sameness group (`?sg=`). */
  ns?: string;
  partition?: string;
  peer?: string;
  samenessGroup?: string;
}

const STATUSES = ['any', 'passing', 'warning', 'critical', 'maintenance'];
/** The query parameters consul-template's service parser accepts, and the source option each sets. */
const SERVICE_QUERY_KEYS: Record<string, 'ns' | 'peer' | 'partition' | 'samenessGroup'> = {
  ns: 'ns',
  peer: 'peer',
  partition: 'partition',
  sg: 'samenessGroup',
};

// consul-template's dependency regexps ([[:word:]] is ASCII [0-9A-Za-z_]); JS backtracks as Go's leftmost-first does.
const SERVICE_QUERY_RE =
  /^(?:([\w=:.-]+)\.)?([\w-]+)(?:\?([\w=&-]+))?(?:@([\w.-]+))?(?:~([\w.-]+))?(?:\|([\w,]+))?$/;
const CATALOG_QUERY_RE = /^(?:\?([\w=&-]+))?(?:@([\w.-]+))?$/;

/** url.ParseQuery over consul-template's restricted alphabet: `a=1&b` gives a=1, b=''; first value wins. */
function parseQueryString(raw: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const i = part.indexOf('=');
    const k = i < 0 ? part : part.slice(0, i);
    if (!out.has(k)) out.set(k, i < 0 ? '' : part.slice(i + 1));
  }
  return out;
}

/** consul-template's health-service query, as its dependency parser reads it (0.42). */
export function parseServiceQuery(q: string): ServiceQuery {
  const m = SERVICE_QUERY_RE.exec(q);
  if (!m) throw new Error(`health.service: invalid format: ${quote(q)}`);
  let statuses = ['passing'];
  if (m[6] !== undefined) {
    statuses = [];
    for (const raw of m[6].split(',')) {
      const f = raw.trim();
      if (f === '') continue;
      if (!STATUSES.includes(f))
        throw new Error(`health.service: invalid filter: ${quote(f)} in ${quote(q)}`);
      statuses.push(f);
    }
    statuses.sort();
  }
  const out: ServiceQuery = { name: m[2], statuses };
  if (m[1] !== undefined) out.tag = m[1];
  if (m[4] !== undefined) out.dc = m[4];
  if (m[5] !== undefined) out.near = m[5];
  if (m[3] !== undefined) {
    for (const [k, v] of parseQueryString(m[3])) {
      const opt = SERVICE_QUERY_KEYS[k];
      if (!opt) {
        throw new Error(
          `health.service: invalid query parameter key ${quote(k)} in query ${quote(m[3])}: supported keys: ns,peer,partition`,
        );
      }
      out[opt] = v;
    }
  }
  return out;
}

/** consul-template's catalog-services query: `[?query][@dc]` (ns and partition). */
export function parseCatalogQuery(q: string): { dc: string; ns?: string; partition?: string } {
  const m = CATALOG_QUERY_RE.exec(q);
  if (!m) throw new Error(`catalog.services: invalid format: ${quote(q)}`);
  const out: { dc: string; ns?: string; partition?: string } = { dc: m[2] ?? '' };
  if (m[1] !== undefined) {
    for (const [k, v] of parseQueryString(m[1])) {
      if (k !== 'ns' && k !== 'partition') {
        throw new Error(
          `catalog.services: invalid query parameter key ${quote(k)} in query ${quote(m[1])}: supported keys: ns,partition`,
        );
      }
      out[k] = v;
    }
  }
  return out;
}

function serviceOpts(q: ServiceQuery): ServiceOptions {
  const o: ServiceOptions = {};
  for (const k of ['tag', 'dc', 'near', 'ns', 'partition', 'peer', 'samenessGroup'] as const) {
    if (q[k] !== undefined) o[k] = q[k];
  }
  return o;
}

function acceptStatus(statuses: string[], status: string): boolean {
  return statuses.some((s) => s === status || s === 'any');
}

function listRelative(prefix: string, pairs: { key: string; value: string }[]): GoStruct[] {
  const clean = prefix.replace(/^\/+/, '');
  const strip = clean === '' || clean.endsWith('/') ? clean : clean + '/';
  return [...pairs]
    .sort((a, b) => compareGoStrings(a.key, b.key))
    .map((p) => {
      let key = p.key.startsWith(strip) ? p.key.slice(strip.length) : p.key.slice(clean.length);
      key = key.replace(/^\/+/, '');
      return keyPair(p.key, key, p.value);
    });
}

/** Go's strconv.Atoi on a 64-bit platform. */
function atoi(s: string): bigint {
  if (!/^[+-]?\d+$/.test(s)) throw new Error(`strconv.Atoi: parsing ${quote(s)}: invalid syntax`);
  const v = BigInt(s);
  if (v >= 1n << 63n || v < -(1n << 63n))
    throw new Error(`strconv.Atoi: parsing ${quote(s)}: value out of range`);
  return v;
}

/**
 * consul-template's byMeta: services grouped by the values of one or more ServiceMeta keys (`a,b|int`), the
 * parts joined with `_`; a missing or empty value is `_no_KEY_` (`0` with `|int`), `|int` values are
 * zero-padded to 5 digits (`%05d`), and every character outside [a-zA-Z0-9_-] becomes `_`.
 */
function byMeta(meta: string, services: GoStruct[]): Record<string, GoStruct[]> {
  const groups: Record<string, GoStruct[]> = typed({}, '[]' + HEALTH);
  const metas = meta.split(',');
  for (const svc of services) {
    const sm = (svc.fields.ServiceMeta ?? {}) as Record<string, string>;
    const parts = metas.map((key) => {
      const isInt = key.endsWith('|int');
      const realKey = isInt ? key.slice(0, -4) : key;
      let value = Object.hasOwn(sm, realKey) ? sm[realKey] : '';
      if (value === '') value = isInt ? '0' : `_no_${realKey}_`;
      if (isInt) {
        let n: bigint;
        try {
          n = atoi(value);
        } catch (e) {
          throw new Error(`cannot parse ${value} as number : ${(e as Error).message}`);
        }
        const digits = (n < 0n ? -n : n).toString();
        value = n < 0n ? `-${digits.padStart(4, '0')}` : digits.padStart(5, '0');
      }
      return value.replace(/[^a-zA-Z0-9_-]/gu, '_');
    });
    const key = parts.join('_');
    if (!Object.hasOwn(groups, key)) groups[key] = typed([], HEALTH);
    groups[key].push(svc);
  }
  return groups;
}

/** reflect.Kind groups used by consul-template's arithmetic helpers. */
function numKind(v: unknown): 'int' | 'float' | null {
  const k = kindOf(v);
  if (k === Kind.Int) return 'int';
  if (k === Kind.Float) return 'float';
  return null;
}

function unknownType(fn: string, v: unknown): Error {
  return new Error(`${fn}: unknown type for ${sprintQ(v)} (${goTypeOf(v)})`);
}

function sprintQ(v: unknown): string {
  // Go formats the reflect.Value with %q.
  if (typeof v === 'string') return quote(v);
  if (v === null || v === undefined) return '<invalid reflect.Value>';
  return `%!q(${goTypeOf(v)}=${sprint([v])})`;
}

function arith(
  name: string,
  op: (a: number, b: number) => number,
  intOp: (a: bigint, b: bigint) => bigint,
  allowFloat = true,
): FuncSpec {
  return {
    params: ['any', 'any'],
    fn: (b: unknown, a: unknown) => {
      const ka = numKind(a);
      const kb = numKind(b);
      if (ka === null || (ka === 'float' && !allowFloat)) throw unknownType(name, a);
      if (kb === null || (kb === 'float' && !allowFloat)) throw unknownType(name, b);
      if (ka === 'int' && kb === 'int') {
        const r = intOp(BigInt(a as number), BigInt(b as number));
        return Number.isSafeInteger(Number(r)) ? Number(r) : r;
      }
      return float(op(floatValue(a), floatValue(b)));
    },
  };
}

function minmax(name: string, pickA: (a: number, b: number) => boolean): FuncSpec {
  return {
    params: ['any', 'any'],
    fn: (b: unknown, a: unknown) => {
      if (numKind(a) === null) throw unknownType(name, a);
      if (numKind(b) === null) throw unknownType(name, b);
      return pickA(floatValue(a), floatValue(b)) ? a : b;
    },
  };
}

/** consul-template's `in`: membership in a list (same kind) or substring of a string. */
function inFn(l: unknown, v: unknown): boolean {
  const kl = kindOf(l);
  if (kl === Kind.Slice) {
    for (const e of l as unknown[]) {
      const ke = kindOf(e);
      if (ke === Kind.Int && kindOf(v) === Kind.Int && Number(e) === Number(v)) return true;
      if (ke === Kind.Float && kindOf(v) === Kind.Float && floatValue(e) === floatValue(v)) return true;
      if (ke === Kind.String && typeof v === 'string' && e === v) return true;
    }
    return false;
  }
  if (kl === Kind.String) return typeof v === 'string' && (l as string).includes(v);
  return false;
}

function containsSome(retTrue: boolean, invert: boolean): FuncSpec {
  return {
    params: ['[]interface {}', 'any'],
    fn: (v: unknown[] | null, l: unknown) => {
      for (const x of v ?? []) if (inFn(l, x) !== invert) return !retTrue;
      return retTrue;
    },
  };
}

/** Go's strconv.ParseBool. */
function parseBool(s: string): boolean {
  if (s === '') return false;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  throw new Error(`parseBool: strconv.ParseBool: parsing ${quote(s)}: invalid syntax`);
}

function parseInt64(s: string, fn = 'parseInt'): number | bigint {
  if (s === '') return 0;
  if (!/^[+-]?\d+$/.test(s)) throw new Error(`${fn}: strconv.ParseInt: parsing ${quote(s)}: invalid syntax`);
  const v = BigInt(s);
  if (v >= 1n << 63n || v < -(1n << 63n)) {
    throw new Error(`${fn}: strconv.ParseInt: parsing ${quote(s)}: value out of range`);
  }
  return Number.isSafeInteger(Number(v)) ? Number(v) : v;
}

function parseFloatGo(s: string): number | GoFloat {
  if (s === '') return new GoFloat(0);
  const lower = s.toLowerCase();
  let f: number | null;
  if (/^[+-]?(inf|infinity)$/.test(lower)) f = lower.startsWith('-') ? -Infinity : Infinity;
  else if (/^[+-]?nan$/.test(lower)) f = Number.NaN;
  else f = parseGoFloat(s);
  if (f === null) {
    const why = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s) ? 'value out of range' : 'invalid syntax';
    throw new Error(`parseFloat: strconv.ParseFloat: parsing ${quote(s)}: ${why}`);
  }
  return float(f);
}

/** JSON decoded as Go's encoding/json does into interface{}: every number is a float64. */
export function parseJSONGo(s: string): unknown {
  if (s === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(s, (_k, x) => (typeof x === 'number' ? float(x) : x));
  } catch (e) {
    throw new Error((e as Error).message);
  }
  return v;
}

function fromYAML(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isInteger(v) && !Object.is(v, -0) ? v : float(v);
  if (Array.isArray(v)) return v.map(fromYAML);
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, e] of Object.entries(v as object)) out[k] = fromYAML(e);
    return out;
  }
  return v;
}

/** strings.Title-like casing: upper-case the first letter of each word. */
function toTitle(s: string): string {
  return s.replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, pre: string, c: string) => pre + c.toUpperCase());
}

/** Go's regexp (RE2) syntax mostly matches JS's with the `u` flag; replacement uses $1 / ${1}. */
function goRegexp(re: string): RegExp {
  let src = re;
  let flags = 'gu';
  const m = /^\(\?([imsU]+)\)/.exec(src);
  if (m) {
    src = src.slice(m[0].length);
    if (m[1].includes('i')) flags += 'i';
    if (m[1].includes('m')) flags += 'm';
    if (m[1].includes('s')) flags += 's';
  }
  src = src.replace(/\\z/g, '$(?![\\s\\S])').replace(/\\A/g, '^');
  try {
    return new RegExp(src, flags);
  } catch (e) {
    throw new Error(`error parsing regexp: ${(e as Error).message}`);
  }
}

function goReplacement(repl: string): (match: string, ...groups: unknown[]) => string {
  return (match: string, ...rest: unknown[]) => {
    const groups = rest.slice(0, -2) as (string | undefined)[];
    const named = (typeof rest[rest.length - 1] === 'object' ? rest[rest.length - 1] : {}) as Record<
      string,
      string
    >;
    return repl.replace(
      /\$(\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g,
      (_m, all: string, braced?: string, bare?: string) => {
        if (all === '$') return '$';
        const name = braced ?? bare ?? '';
        if (/^\d+$/.test(name)) {
          const i = Number(name);
          if (i === 0) return match;
          return groups[i - 1] ?? '';
        }
        return named?.[name] ?? '';
      },
    );
  };
}

const base64Re = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const base64UrlRe = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}==|[A-Za-z0-9_-]{3}=)?$/;

function b64decode(s: string, url: boolean, name: string): string {
  const re = url ? base64UrlRe : base64Re;
  if (!re.test(s)) {
    let bad = 0;
    const alphabet = url ? /[A-Za-z0-9_-]/ : /[A-Za-z0-9+/]/;
    while (bad < s.length && alphabet.test(s[bad])) bad++;
    if (bad === s.length) bad = s.length - (s.length % 4 || 4);
    throw new Error(`${name}: illegal base64 data at input byte ${bad}`);
  }
  return Buffer.from(s, url ? 'base64url' : 'base64').toString('utf8');
}

/** Go's time.Format with its reference-time layout (UTC). */
export function goTimeFormat(d: Date, layout: string): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const months = [
    'January',
    'February',
    'March',
    'April',
    'May',
    'June',
    'July',
    'August',
    'September',
    'October',
    'November',
    'December',
  ];
  const days = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  const h = d.getUTCHours();
  const tokens: [string, () => string][] = [
    ['January', () => months[d.getUTCMonth()]],
    ['Jan', () => months[d.getUTCMonth()].slice(0, 3)],
    ['Monday', () => days[d.getUTCDay()]],
    ['Mon', () => days[d.getUTCDay()].slice(0, 3)],
    ['MST', () => 'UTC'],
    ['2006', () => pad(d.getUTCFullYear(), 4)],
    ['Z07:00', () => 'Z'],
    ['Z0700', () => 'Z'],
    ['Z07', () => 'Z'],
    ['-07:00', () => '+00:00'],
    ['-0700', () => '+0000'],
    ['-07', () => '+00'],
    ['.000000000', () => '.' + pad(d.getUTCMilliseconds(), 3) + '000000'],
    ['.000000', () => '.' + pad(d.getUTCMilliseconds(), 3) + '000'],
    ['.000', () => '.' + pad(d.getUTCMilliseconds(), 3)],
    [
      '.999999999',
      () => (d.getUTCMilliseconds() ? '.' + pad(d.getUTCMilliseconds(), 3).replace(/0+$/, '') : ''),
    ],
    ['.999', () => (d.getUTCMilliseconds() ? '.' + pad(d.getUTCMilliseconds(), 3).replace(/0+$/, '') : '')],
    ['01', () => pad(d.getUTCMonth() + 1)],
    ['02', () => pad(d.getUTCDate())],
    ['_2', () => String(d.getUTCDate()).padStart(2, ' ')],
    ['002', () => pad(Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86400000) + 1, 3)],
    ['06', () => pad(d.getUTCFullYear() % 100)],
    ['15', () => pad(h)],
    ['03', () => pad(h % 12 === 0 ? 12 : h % 12)],
    ['04', () => pad(d.getUTCMinutes())],
    ['05', () => pad(d.getUTCSeconds())],
    ['PM', () => (h >= 12 ? 'PM' : 'AM')],
    ['pm', () => (h >= 12 ? 'pm' : 'am')],
    ['1', () => String(d.getUTCMonth() + 1)],
    ['2', () => String(d.getUTCDate())],
    ['3', () => String(h % 12 === 0 ? 12 : h % 12)],
    ['4', () => String(d.getUTCMinutes())],
    ['5', () => String(d.getUTCSeconds())],
  ];
  let out = '';
  let i = 0;
  outer: while (i < layout.length) {
    for (const [tok, f] of tokens) {
      if (layout.startsWith(tok, i)) {
        out += f();
        i += tok.length;
        continue outer;
      }
    }
    out += layout[i];
    i++;
  }
  return out;
}

/** The Scratch of consul-template: per-render key/value scratch space, used through methods. */
function newScratch(): GoStruct {
  const values = new Map<string, unknown>();
  const s = new GoStruct('*template.Scratch', {}, {});
  const m = s.methods;
  m.Key = { params: ['string'], fn: (k: string) => values.has(k) };
  m.Get = { params: ['string'], fn: (k: string) => (values.has(k) ? values.get(k) : null) };
  m.Set = {
    params: ['string', 'any'],
    fn: (k: string, v: unknown) => {
      values.set(k, v);
      return '';
    },
  };
  m.SetX = {
    params: ['string', 'any'],
    fn: (k: string, v: unknown) => {
      if (!values.has(k)) values.set(k, v);
      return '';
    },
  };
  const mapSet = (overwrite: boolean) => (k: string, mk: string, v: unknown) => {
    let cur = values.get(k);
    if (!isMap(cur)) {
      if (cur !== undefined && cur !== null) throw new Error(`scratch: key ${quote(k)} is not a map`);
      cur = {};
      values.set(k, cur);
    }
    const map = cur as Record<string, unknown>;
    if (overwrite || !Object.hasOwn(map, mk)) map[mk] = v;
    return '';
  };
  m.MapSet = { params: ['string', 'string', 'any'], fn: mapSet(true) };
  m.MapSetX = { params: ['string', 'string', 'any'], fn: mapSet(false) };
  m.MapValues = {
    params: ['string'],
    fn: (k: string) => {
      const cur = values.get(k);
      if (!isMap(cur)) return [];
      return sortedKeys(cur).map((key) => cur[key]);
    },
  };
  return s;
}

function explodeInto(m: Record<string, unknown>, k: string, v: unknown, p: string): void {
  if (k.includes('/')) {
    const parts = k.split('/');
    const top = parts[0];
    const rest = parts.slice(1).join('/');
    if (!Object.hasOwn(m, top)) m[top] = {};
    const nest = m[top];
    if (!isMap(nest)) {
      throw new Error(
        `explode: not a map: ${quote(p)}: ${quote(top)} already has value ${quote(String(nest))}`,
      );
    }
    explodeInto(nest, rest, v, k);
    return;
  }
  if (k !== '') m[k] = v;
}

function keyPairsArg(pairs: unknown): GoStruct[] {
  if (pairs === null || pairs === undefined) return [];
  return pairs as GoStruct[];
}

/** Deep merge of maps, dst wins unless overwrite (mergo.Map semantics for map values). */
function mergeInto(dst: Record<string, unknown>, src: Record<string, unknown>, overwrite: boolean): void {
  for (const k of Object.keys(src)) {
    const s = src[k];
    const d = dst[k];
    if (isMap(d) && isMap(s)) mergeInto(d, s, overwrite);
    else if (!Object.hasOwn(dst, k) || overwrite || d === null || d === '' || d === 0 || d === false)
      dst[k] = s;
  }
}

function cloneMap(m: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) out[k] = isMap(v) ? cloneMap(v) : v;
  return out;
}

/** The consul-template functions bound to one render's recorder. */
export function consulFuncs(rec: Recorder, opts: ConsulFuncOptions = {}): Map<string, FuncSpec> {
  const src = rec.source;
  const f = new Map<string, FuncSpec>();
  const def = (name: string, params: string[], fn: FuncSpec['fn'], variadic?: string) =>
    f.set(name, variadic === undefined ? { params, fn } : { params, variadic, fn });
  const S = 'string';

  def('key', [S], (s: string) => {
    if (s === '') return '';
    rec.use('keys', s);
    const v = src.key(s);
    if (v === undefined || v === null) {
      rec.miss('key', s);
      return '';
    }
    return v;
  });
  def('keyExists', [S], (s: string) => {
    if (s === '') return false;
    rec.use('keys', s);
    const v = src.key(s);
    if (v === undefined) {
      rec.miss('key', s);
      return false;
    }
    return v !== null;
  });
  def('keyOrDefault', [S, S], (s: string, d: string) => {
    if (s === '') return d;
    rec.use('keys', s);
    const v = src.key(s);
    if (v === undefined) {
      rec.miss('key', s);
      return d;
    }
    return v === null || v === '' ? d : v;
  });
  // The names from before consul-template 0.18, still in long-lived templates: the same functions.
  for (const [old, current] of Object.entries(OLD_NAMES)) f.set(old, f.get(current)!);
  const list = (name: string, emptyIsSafe: boolean, tree: boolean) => (s: string) => {
    const result = typed([] as GoStruct[], KEYPAIR);
    if (s === '') return result;
    rec.use('prefixes', s);
    const pairs = src.list(s);
    if (pairs !== undefined && pairs !== null) {
      for (const p of listRelative(s, pairs)) {
        const key = p.fields.Key as string;
        if (tree ? !key.endsWith('/') && key !== '' : key !== '' && !key.includes('/')) result.push(p);
      }
      if (result.length > 0 || emptyIsSafe) return result;
    }
    rec.miss('prefix', s);
    void name;
    return result;
  };
  def('ls', [S], list('ls', true, false));
  def('safeLs', [S], list('safeLs', false, false));
  def('tree', [S], list('tree', true, true));
  def('safeTree', [S], list('safeTree', false, true));

  def(
    'service',
    [],
    (...s: string[]) => {
      const result = typed([] as GoStruct[], HEALTH);
      if (s.length === 0 || s[0] === '') return result;
      const query = s.join('|');
      const q = parseServiceQuery(query);
      rec.use('services', query);
      const list = src.service(q.name, serviceOpts(q));
      if (list === undefined || list === null) {
        rec.miss('service', query);
        return result;
      }
      for (const inst of list) {
        if (q.tag !== undefined && !inst.Tags.includes(q.tag)) continue;
        if (!acceptStatus(q.statuses, inst.Status)) continue;
        result.push(healthService(inst));
      }
      // With ~near the source's order (by round-trip time) is kept, as consul-template keeps Consul's.
      if (q.near !== undefined) return result;
      // Consul orders by node then service ID; consul-template keeps that order.
      result.sort(
        (a, b) =>
          compareGoStrings(a.fields.Node as string, b.fields.Node as string) ||
          compareGoStrings(a.fields.ID as string, b.fields.ID as string),
      );
      return result;
    },
    S,
  );
  def(
    'services',
    [],
    (...s: string[]) => {
      const result = typed([] as GoStruct[], SNIPPET);
      const query = s.join('');
      const q = parseCatalogQuery(query);
      rec.use('catalogs', query);
      const extra: CatalogOptions = {};
      if (q.ns !== undefined) extra.ns = q.ns;
      if (q.partition !== undefined) extra.partition = q.partition;
      const list = src.services(q.dc, extra);
      if (list === undefined || list === null) {
        rec.miss('services', query);
        return result;
      }
      for (const c of [...list].sort((a, b) => compareGoStrings(a.Name, b.Name)))
        result.push(catalogSnippet(c));
      return result;
    },
    S,
  );

  addCatalogFuncs(f, { rec, healthService, parseServiceQuery });

  // Vault and Nomad: known by name, so templates parse; a call says why it cannot run.
  for (const [name, what] of Object.entries(UNSUPPORTED)) f.set(name, unsupportedFunc(name, what));

  def('env', [S], (s: string) => {
    rec.use('env', s);
    return src.env(s) ?? '';
  });
  def('envOrDefault', [S, S], (s: string, d: string) => {
    rec.use('env', s);
    const v = src.env(s);
    return v === undefined ? d : v;
  });
  def('mustEnv', [S], (s: string) => {
    rec.use('env', s);
    const v = src.env(s) ?? '';
    if (v === '') throw new Error(`required environment variable ${s} is empty`);
    return v;
  });
  def('file', [S], (s: string) => {
    if (s === '') return '';
    rec.use('files', s);
    const v = src.file(s);
    if (v === undefined || v === null) {
      rec.miss('file', s);
      return '';
    }
    return v;
  });
  def(
    'executeTemplate',
    [S],
    (name: string, ...data: unknown[]) => {
      if (data.length > 1) {
        throw new Error(
          `executeTemplate: wrong number of arguments, expected 1 or 2, but got ${data.length + 1}`,
        );
      }
      if (!opts.executeTemplate) throw new Error('executeTemplate: not available');
      return opts.executeTemplate(name, data.length === 1 ? data[0] : undefined);
    },
    'any',
  );

  def('base64Decode', [S], (s: string) => b64decode(s, false, 'base64Decode'));
  def('base64Encode', [S], (s: string) => Buffer.from(s, 'utf8').toString('base64'));
  def('base64URLDecode', [S], (s: string) => b64decode(s, true, 'base64URLDecode'));
  def('base64URLEncode', [S], (s: string) =>
    Buffer.from(s, 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_'),
  );

  def('byKey', ['[]' + KEYPAIR], (pairs: unknown) => {
    const m: Record<string, Record<string, unknown>> = typed({}, 'map[string]' + KEYPAIR);
    for (const p of keyPairsArg(pairs)) {
      const parts = (p.fields.Key as string).split('/');
      const top = parts[0];
      const key = parts.slice(1).join('/');
      if (key === '') continue;
      if (!Object.hasOwn(m, top)) m[top] = typed({}, KEYPAIR);
      m[top][key] = new GoStruct(KEYPAIR, { ...p.fields, Key: key });
    }
    return m;
  });
  def('byTag', ['any'], (input: unknown) => {
    const m: Record<string, unknown[]> = typed({}, '[]interface {}');
    if (input === null || input === undefined) return m;
    const t = goTypeOf(input);
    if (t !== '[]' + HEALTH && t !== '[]' + SNIPPET) throw new Error(`byTag: wrong argument type ${t}`);
    for (const s of input as GoStruct[]) {
      for (const tag of s.fields.Tags as string[]) {
        if (!Object.hasOwn(m, tag)) m[tag] = [];
        m[tag].push(s);
      }
    }
    return m;
  });
  def('byMeta', [S, '[]' + HEALTH], (meta: string, services: GoStruct[] | null) =>
    byMeta(meta, services ?? []),
  );
  def('byPort', ['any'], (input: unknown) => {
    const m: Record<string, unknown[]> = intKeyed(typed({}, '[]interface {}'));
    if (input === null || input === undefined) return m;
    const t = goTypeOf(input);
    // consul-template also takes Consul catalog and Nomad services, which tend's functions do not return.
    if (t !== '[]' + HEALTH) throw new Error(`byPort: wrong argument type ${t}`);
    for (const s of input as GoStruct[]) {
      const port = String(s.fields.Port);
      if (!Object.hasOwn(m, port)) m[port] = [];
      m[port].push(s);
    }
    return m;
  });
  def('contains', ['any', 'any'], (v: unknown, l: unknown) => inFn(l, v));
  def('containsAll', ['[]interface {}', 'any'], containsSome(true, true).fn);
  def('containsAny', ['[]interface {}', 'any'], containsSome(false, false).fn);
  def('containsNone', ['[]interface {}', 'any'], containsSome(true, false).fn);
  def('containsNotAll', ['[]interface {}', 'any'], containsSome(false, true).fn);
  def('explode', ['[]' + KEYPAIR], (pairs: unknown) => {
    const m: Record<string, unknown> = {};
    for (const p of keyPairsArg(pairs))
      explodeInto(m, p.fields.Key as string, p.fields.Value, p.fields.Key as string);
    return m;
  });
  def('explodeMap', ['map[string]interface {}'], (mapIn: Record<string, unknown> | null) => {
    const out: Record<string, unknown> = {};
    for (const k of sortedKeys(mapIn ?? {})) explodeInto(out, k, mapIn![k], k);
    return out;
  });
  def('in', ['any', 'any'], inFn);
  def('indent', ['int', S], (spaces: number, s: string) => {
    if (spaces < 0) throw new Error('indent value must be a positive integer');
    const prefix = ' '.repeat(spaces);
    let out = '';
    let sp = true;
    for (const c of s) {
      if (sp && c !== '\n') out += prefix;
      out += c;
      sp = c === '\n';
    }
    return out;
  });
  def(
    'loop',
    [],
    (...args: unknown[]) => {
      const to64 = (v: unknown): number => {
        if (kindOf(v) === Kind.Int) return Number(v);
        if (typeof v === 'string') return Number(parseInt64(v));
        throw new Error(`loop: bad argument type: ${goTypeOf(v)}`);
      };
      let start: number;
      let stop: number;
      if (args.length === 1) {
        start = 0;
        stop = to64(args[0]);
      } else if (args.length === 2) {
        start = to64(args[0]);
        stop = to64(args[1]);
      } else throw new Error(`loop: wrong number of arguments, expected 1 or 2, but got ${args.length}`);
      const items: number[] = [];
      for (let i = start; i < stop; i++) items.push(i);
      return new GoChan('int64', items);
    },
    'any',
  );
  def('join', [S, '[]string'], (sep: string, a: string[] | null) => (a ?? []).join(sep));
  def('trim', [S, S], (cutset: string, s: string) => {
    const set = new Set(Array.from(cutset));
    const chars = Array.from(s);
    let i = 0;
    let j = chars.length;
    while (i < j && set.has(chars[i])) i++;
    while (j > i && set.has(chars[j - 1])) j--;
    return chars.slice(i, j).join('');
  });
  def('trimPrefix', [S, S], (p: string, s: string) => (p !== '' && s.startsWith(p) ? s.slice(p.length) : s));
  def('trimSuffix', [S, S], (p: string, s: string) =>
    p !== '' && s.endsWith(p) ? s.slice(0, s.length - p.length) : s,
  );
  def('trimSpace', [S], (s: string) => s.replace(/^[\s\u0085]+|[\s\u0085]+$/gu, ''));
  def('parseBool', [S], parseBool);
  def('parseFloat', [S], parseFloatGo);
  def('parseInt', [S], (s: string) => parseInt64(s));
  def('parseUint', [S], (s: string) => {
    if (s === '') return 0;
    if (!/^\+?\d+$/.test(s))
      throw new Error(`parseUint: strconv.ParseUint: parsing ${quote(s)}: invalid syntax`);
    const v = BigInt(s);
    return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  });
  def('parseJSON', [S], parseJSONGo);
  def('parseYAML', [S], (s: string) => (s === '' ? {} : fromYAML(yamlParse(s))));
  def(
    'plugin',
    [S],
    (name: string, ...args: string[]) => {
      if (!opts.allowPlugin) return disabledFunc('plugin').fn();
      if (name === '') return '';
      return (opts.runPlugin ?? runPluginSync)(
        name,
        args.map((a) => a.trim()).filter((a) => a !== ''),
      ).trim();
    },
    S,
  );
  def('regexReplaceAll', [S, S, S], (re: string, pl: string, s: string) =>
    boundedReplace(goRegexp(re), s, goReplacement(pl)),
  );
  def('regexMatch', [S, S], (re: string, s: string) => {
    const r = goRegexp(re);
    return boundedTest(new RegExp(r.source, r.flags.replace('g', '')), s);
  });
  def('replaceAll', [S, S, S], (from: string, to: string, s: string) => {
    if (from === '') {
      const chars = Array.from(s);
      return to + chars.map((c) => c + to).join('');
    }
    return s.split(from).join(to);
  });
  const scratch = newScratch();
  def('scratch', [], () => scratch);
  def('split', [S, S], (sep: string, s: string) => {
    s = s.trim();
    if (s === '') return typed([], 'string');
    return typed(sep === '' ? Array.from(s) : s.split(sep), 'string');
  });
  def('splitToMap', [S, S, S], (sep1: string, sep2: string, s: string) => {
    const m: Record<string, string> = typed({}, 'string');
    s = s.trim();
    if (s === '') return m;
    for (const part of s.split(sep1)) {
      const i = part.indexOf(sep2);
      if (i < 0) continue;
      m[part.slice(0, i)] = part.slice(i + sep2.length);
    }
    return m;
  });
  def(
    'timestamp',
    [],
    (...s: string[]) => {
      const now = opts.now ? opts.now() : new Date();
      if (s.length === 0) return goTimeFormat(now, '2006-01-02T15:04:05Z07:00');
      if (s.length === 1) {
        if (s[0] === 'unix') return String(Math.floor(now.getTime() / 1000));
        return goTimeFormat(now, s[0]);
      }
      throw new Error(`timestamp: wrong number of arguments, expected 0 or 1, but got ${s.length}`);
    },
    S,
  );
  def('toJSON', ['any'], (v: unknown) => toJSON(v));
  def('toJSONPretty', ['any'], (v: unknown) => toJSON(v, '  '));
  def('toUnescapedJSON', ['any'], (v: unknown) =>
    toJSON(v)
      .replace(/\\u003c/g, '<')
      .replace(/\\u003e/g, '>')
      .replace(/\\u0026/g, '&'),
  );
  def('toUnescapedJSONPretty', ['any'], (v: unknown) =>
    toJSON(v, '  ')
      .replace(/\\u003c/g, '<')
      .replace(/\\u003e/g, '>')
      .replace(/\\u0026/g, '&'),
  );
  def('toLower', [S], (s: string) => s.toLowerCase());
  def('toTitle', [S], toTitle);
  def('toTOML', ['any'], (v: unknown) => toTOML(v));
  def('toUpper', [S], (s: string) => s.toUpperCase());
  def('toYAML', ['any'], (v: unknown) => toYAML(v));
  f.set('sockaddr', sockaddrFunc());
  def('sha256Hex', [S], (s: string) => createHash('sha256').update(s, 'utf8').digest('hex'));
  def('md5sum', [S], (s: string) => createHash('md5').update(s, 'utf8').digest('hex'));
  def('hmacSHA256Hex', [S, S], (msg: string, key: string) =>
    createHmac('sha256', key).update(msg).digest('hex'),
  );
  def(
    'writeToFile',
    [S, S, S, S],
    (path: string, user: string, group: string, perms: string, ...args: string[]) => {
      if (!opts.allowWriteToFile) return disabledFunc('writeToFile').fn();
      const flags = args.length === 2 ? args[0] : '';
      let content = args[args.length - 1] ?? '';
      if (flags.includes('newline')) content += '\n';
      if (!/^[0-7]+$/.test(perms) || Number.parseInt(perms, 8) > 0xffffffff)
        throw new Error(`strconv.ParseUint: parsing ${quote(perms)}: invalid syntax`);
      const mode = Number.parseInt(perms, 8);
      (opts.writeFile ?? writeToFileSync)(path, content, mode, flags.includes('append'), { user, group });
      return '';
    },
    S,
  );
  def(
    'mergeMap',
    ['map[string]interface {}', 'map[string]interface {}'],
    (dst: Record<string, unknown> | null, srcMap: Record<string, unknown> | null) => {
      const out = cloneMap(dst ?? {});
      mergeInto(out, srcMap ?? {}, false);
      return out;
    },
    'func(*mergo.Config)',
  );
  def(
    'mergeMapWithOverride',
    ['map[string]interface {}', 'map[string]interface {}'],
    (dst: Record<string, unknown> | null, srcMap: Record<string, unknown> | null) => {
      const out = cloneMap(dst ?? {});
      mergeInto(out, srcMap ?? {}, true);
      return out;
    },
  );
  f.set(
    'add',
    arith(
      'add',
      (a, b) => a + b,
      (a, b) => a + b,
    ),
  );
  f.set(
    'subtract',
    arith(
      'subtract',
      (a, b) => a - b,
      (a, b) => a - b,
    ),
  );
  f.set(
    'multiply',
    arith(
      'multiply',
      (a, b) => a * b,
      (a, b) => a * b,
    ),
  );
  f.set(
    'divide',
    arith(
      'divide',
      (a, b) => a / b,
      (a, b) => {
        if (b === 0n) throw new Error('runtime error: integer divide by zero');
        return a / b;
      },
    ),
  );
  f.set(
    'modulo',
    arith(
      'modulo',
      (a, b) => a % b,
      (a, b) => {
        if (b === 0n) throw new Error('runtime error: integer divide by zero');
        return a % b;
      },
      false,
    ),
  );
  f.set(
    'minimum',
    minmax('minimum', (a, b) => a < b),
  );
  f.set(
    'maximum',
    minmax('maximum', (a, b) => a > b),
  );
  for (const [k, v] of [...spewFuncs(opts.debugPrint), ...sprigFuncs()]) f.set(k, v);
  return f;
}

export { fullInstance, GoChan };
