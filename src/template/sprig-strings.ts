/** sprig's string, encoding, path, regexp and URL functions (sprig v3.2.3 semantics). */
import { createContext, Script } from 'node:vm';
import { REGEXP_BUDGET_MS, RegexpBudgetError } from './bounded-regexp.js';
import type { FuncSpec } from './exec.js';
import { quote, sprint } from './fmt.js';
import { camelToLower, toCamelCase } from './sprig-case.js';
import { reflectKind, strings, strval } from './sprig-core.js';
import { byteLength, typed, utf8Bytes } from './values.js';

type Def = (name: string, params: string[], fn: FuncSpec['fn'], variadic?: string) => void;
const S = 'string';

/** unicode.IsSpace */
function isSpace(c: string): boolean {
  return /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/u.test(c);
}

function isSpaceByte(b: number): boolean {
  return b === 32 || (b >= 9 && b <= 13) || b === 0x85 || b === 0xa0;
}

/** Go slices strings by bytes; these helpers work on UTF-8 bytes when a cut may split a rune. */
function byteSlice(s: string, start: number, end?: number): string {
  const b = utf8Bytes(s);
  const e = end ?? b.length;
  if (start < 0 || e > b.length || start > e) {
    throw new Error(`runtime error: slice bounds out of range [${start}:${e}]`);
  }
  return Buffer.from(b.subarray(start, e)).toString('utf8');
}

function sliceBoundsErr(a: number, b: number, len: number): Error {
  if (b > len) return new Error(`runtime error: slice bounds out of range [:${b}] with length ${len}`);
  if (a > b) return new Error(`runtime error: slice bounds out of range [${a}:${b}]`);
  return new Error(`runtime error: slice bounds out of range [${a}:${b}]`);
}

function abbreviateFull(str: string, offset: number, maxWidth: number): string {
  const len = byteLength(str);
  if (str === '') return '';
  if (maxWidth < 4) return '';
  if (len <= maxWidth) return str;
  if (offset > len) offset = len;
  if (len - offset < maxWidth - 3) offset = len - (maxWidth - 3);
  if (offset <= 4) return byteSlice(str, 0, maxWidth - 3) + '...';
  if (maxWidth < 7) return '';
  if (offset + maxWidth - 3 < len) return '...' + abbreviateFull(byteSlice(str, offset), 0, maxWidth - 3);
  return '...' + byteSlice(str, len - (maxWidth - 3));
}

function wrapCustom(str: string, wrapLength: number, newLine: string, wrapLongWords: boolean): string {
  // goutils works on bytes: a cut may fall inside a multi-byte character, as in Go.
  if (str === '') return '';
  if (newLine === '') newLine = '\n';
  if (wrapLength < 1) wrapLength = 1;
  const b = Buffer.from(str, 'utf8');
  const nl = Buffer.from(newLine, 'utf8');
  const len = b.length;
  const SP = 32;
  let offset = 0;
  const out: Buffer[] = [];
  while (len - offset > wrapLength) {
    if (b[offset] === SP) {
      offset++;
      continue;
    }
    const end = Math.min(wrapLength + offset + 1, len);
    const at = b.subarray(offset, end).lastIndexOf(SP) + offset;
    if (at >= offset) {
      out.push(b.subarray(offset, at), nl);
      offset = at + 1;
    } else if (wrapLongWords) {
      out.push(b.subarray(offset, wrapLength + offset), nl);
      offset += wrapLength;
    } else {
      const e = wrapLength + offset;
      const index = b.subarray(e).indexOf(SP);
      if (index === -1) {
        out.push(b.subarray(offset));
        offset = len;
      } else {
        out.push(b.subarray(offset, index + e), nl);
        offset = index + e + 1;
      }
    }
  }
  out.push(b.subarray(offset));
  return Buffer.concat(out).toString('utf8');
}

const isUpper = (c: string) => c !== c.toLowerCase() && c === c.toUpperCase();
const isLower = (c: string) => c !== c.toUpperCase() && c === c.toLowerCase();

function swapCase(s: string): string {
  let ws = true;
  let out = '';
  for (const c of s) {
    if (isUpper(c)) {
      out += c.toLowerCase();
      ws = false;
    } else if (isLower(c)) {
      out += ws ? c.toUpperCase() : c.toUpperCase();
      ws = false;
    } else {
      out += c;
      ws = isSpace(c);
    }
  }
  return out;
}

function goTitle(s: string): string {
  // strings.Title: upper-case letters that start a word (after a non-letter).
  let prev = ' ';
  let out = '';
  for (const c of s) {
    out += /[\p{L}\p{N}_'’]/u.test(prev) ? c : c.toUpperCase();
    prev = c;
  }
  return out;
}

// ---- regexp (Go RE2 syntax over JavaScript's engine) ----

function goRegexpError(re: string): string | null {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < re.length; i++) {
    const c = re[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      if (re[i + 1] === ']') i++;
      else if (re[i + 1] === '^' && re[i + 2] === ']') i += 2;
      if (!re.slice(i + 1).includes(']')) return `missing closing ]: \`${re.slice(i)}\``;
      continue;
    }
    if (c === '(') {
      depth++;
      if (re[i + 1] === '?') i++;
    }
    if (c === ')') {
      if (depth === 0) return `unexpected ): \`${re}\``;
      depth--;
    }
    if ('*+?'.includes(c) && i + 1 < re.length && '*+'.includes(re[i + 1])) {
      return `invalid nested repetition operator: \`${re.slice(i, i + 2)}\``;
    }
    if ('*+?'.includes(c) && (i === 0 || re[i - 1] === '(' || re[i - 1] === '|')) {
      return `missing argument to repetition operator: \`${c}\``;
    }
  }
  if (depth > 0) return `missing closing ): \`${re}\``;
  return null;
}

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7f',
  blank: '\\t ',
  cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

const GENERAL_CATEGORIES = new Set(
  'C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs'.split(
    ' ',
  ),
);

const hex = (c: string) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0');

/** Go's RE2 syntax in JavaScript's (u flag): the escapes, classes and names that differ. */
function translateGoRegexp(re: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < re.length; i++) {
    const c = re[i];
    if (c === '\\' && i + 1 < re.length) {
      const n = re[i + 1];
      i++;
      if (n === 'p' || n === 'P') {
        let name: string;
        if (re[i + 1] === '{') {
          const close = re.indexOf('}', i + 2);
          name = re.slice(i + 2, close < 0 ? re.length : close);
          i = close < 0 ? re.length : close;
        } else {
          name = re[i + 1] ?? '';
          i++;
        }
        const neg = name.startsWith('^') ? !(n === 'P') : n === 'P';
        name = name.replace(/^\^/, '');
        const prop = name === 'Any' ? '' : GENERAL_CATEGORIES.has(name) ? name : `Script=${name}`;
        if (prop === '') out += neg ? '[^\\s\\S]' : '[\\s\\S]';
        else out += `\\${neg ? 'P' : 'p'}{${prop}}`;
      } else if (n === 'Q') {
        const end = re.indexOf('\\E', i + 1);
        const lit = re.slice(i + 1, end < 0 ? re.length : end);
        out += Array.from(lit)
          .map((x) => (/[A-Za-z0-9_]/.test(x) ? x : x.charCodeAt(0) < 0x80 ? hex(x) : x))
          .join('');
        i = end < 0 ? re.length : end + 1;
      } else if (n === 's') out += inClass ? '\\t\\n\\f\\r ' : '[\\t\\n\\f\\r ]';
      else if (n === 'S')
        out += inClass ? '\\x00-\\x08\\x0b\\x0e-\\x1f\\x21-\\u{10ffff}' : '[^\\t\\n\\f\\r ]';
      else if (n === 'A') out += '^';
      else if (n === 'z') out += '$(?![\\s\\S])';
      else if (/[0-9A-Za-z]/.test(n)) out += '\\' + n;
      else out += hex(n);
      continue;
    }
    if (inClass) {
      if (c === '[' && re[i + 1] === ':') {
        const close = re.indexOf(':]', i + 2);
        const name = close < 0 ? '' : re.slice(i + 2, close);
        if (close >= 0 && POSIX[name]) {
          out += POSIX[name];
          i = close + 1;
          continue;
        }
      }
      if (c === ']') {
        inClass = false;
        out += c;
        continue;
      }
      // JavaScript's u flag wants these escaped inside a class; Go takes them as they are.
      out +=
        c === '[' || c === '/' || c === '{' || c === '}' || c === '(' || c === ')' || c === '|'
          ? '\\' + c
          : c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (re[i + 1] === '^') {
        out += '^';
        i++;
      }
      // A ] right after [ or [^ is a literal.
      if (re[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '{') {
      // A brace that does not make a repetition is a literal in Go, an error in JavaScript.
      const rep = /^\{\d+(?:,\d*)?\}/.exec(re.slice(i));
      if (rep) {
        out += rep[0];
        i += rep[0].length - 1;
      } else out += '\\{';
      continue;
    }
    if (c === '}') {
      out += '\\}';
      continue;
    }
    if (c === '(' && re.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
      continue;
    }
    out += c;
  }
  return out;
}

export function compileGoRegexp(re: string): RegExp {
  const err = goRegexpError(re);
  if (err) throw new Error(`error parsing regexp: ${err}`);
  let src = re;
  let flags = 'gu';
  const m = /^\(\?([imsU]+)\)/.exec(src);
  if (m) {
    src = src.slice(m[0].length);
    if (m[1].includes('i')) flags += 'i';
    if (m[1].includes('m')) flags += 'm';
    if (m[1].includes('s')) flags += 's';
  }
  try {
    return new RegExp(translateGoRegexp(src), flags);
  } catch (e) {
    throw new Error(`error parsing regexp: ${(e as Error).message}`);
  }
}

const vmCx = createContext({ f: null, out: null });
const callScript = new Script('out = f()');

/**
 * Run a matching loop under the same budget as consul-template's regexp functions: Go's RE2 is
 * linear, JavaScript's engine backtracks, and a bad pattern must not freeze tend.
 */
function bounded<T>(re: RegExp, s: string, f: () => T): T {
  Object.assign(vmCx, { f, out: null });
  try {
    callScript.runInContext(vmCx, { timeout: REGEXP_BUDGET_MS });
    return vmCx.out as T;
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      throw new RegexpBudgetError(
        `regexp ${JSON.stringify(re.source)} took over ${REGEXP_BUDGET_MS}ms on a ${s.length}-character string ` +
          '(it backtracks; RE2, which Go and consul-template use, would not): simplify the pattern',
      );
    }
    throw e;
  } finally {
    Object.assign(vmCx, { f: null, out: null });
  }
}

/** Match positions as Go's FindAll reports them: empty matches next to the previous match are dropped. */
export function findAll(re: RegExp, s: string, n: number): RegExpExecArray[] {
  return bounded(re, s, () => findAllRaw(re, s, n));
}

function findAllRaw(re: RegExp, s: string, n: number): RegExpExecArray[] {
  const out: RegExpExecArray[] = [];
  if (n === 0) return out;
  re.lastIndex = 0;
  let prevEnd = -1;
  let pos = 0;
  while (pos <= s.length && (n < 0 || out.length < n)) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) break;
    const end = m.index + m[0].length;
    if (m[0].length === 0) {
      if (m.index !== prevEnd) out.push(m);
      const cp = s.codePointAt(m.index);
      pos = m.index + (cp !== undefined && cp > 0xffff ? 2 : 1);
    } else {
      out.push(m);
      pos = end;
    }
    prevEnd = end;
  }
  return out;
}

function expandTemplate(repl: string, m: RegExpExecArray): string {
  let out = '';
  for (let i = 0; i < repl.length; i++) {
    const c = repl[i];
    if (c !== '$' || i + 1 >= repl.length) {
      out += c;
      continue;
    }
    if (repl[i + 1] === '$') {
      out += '$';
      i++;
      continue;
    }
    let name: string;
    let j: number;
    if (repl[i + 1] === '{') {
      const close = repl.indexOf('}', i + 2);
      const inner = close < 0 ? '' : repl.slice(i + 2, close);
      if (close < 0 || !/^\w+$/.test(inner)) {
        out += c;
        continue;
      }
      name = inner;
      j = close + 1;
    } else {
      const nm = /^\w+/.exec(repl.slice(i + 1));
      if (!nm) {
        out += c;
        continue;
      }
      name = nm[0];
      j = i + 1 + name.length;
    }
    if (/^\d+$/.test(name)) out += m[Number(name)] ?? '';
    else out += m.groups?.[name] ?? '';
    i = j - 1;
  }
  return out;
}

export function replaceAll(re: RegExp, s: string, f: (m: RegExpExecArray) => string): string {
  let out = '';
  let last = 0;
  for (const m of findAll(re, s, -1)) {
    out += s.slice(last, m.index) + f(m);
    last = m.index + m[0].length;
  }
  return out + s.slice(last);
}

function regexSplit(re: RegExp, src: string, s: string, n: number): string[] {
  if (n === 0) return [];
  if (src.length > 0 && s.length === 0) return [''];
  const out: string[] = [];
  let beg = 0;
  let end = 0;
  for (const m of findAll(re, s, n)) {
    if (n > 0 && out.length === n - 1) break;
    end = m.index;
    if (m.index + m[0].length !== 0) out.push(s.slice(beg, end));
    beg = m.index + m[0].length;
  }
  if (end !== s.length) out.push(s.slice(beg));
  return out;
}

const mustCompile = (re: string) => {
  try {
    return compileGoRegexp(re);
  } catch (e) {
    // regexp.MustCompile panics with the pattern named.
    throw new Error(`regexp: Compile(${'`' + re + '`'}): ${(e as Error).message}`);
  }
};

// ---- paths ----

function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const s = (rooted ? '/' : '') + out.join('/');
  return s === '' ? '.' : s;
}

function basePath(p: string): string {
  if (p === '') return '.';
  p = p.replace(/\/+$/, '');
  if (p === '') return '/';
  const i = p.lastIndexOf('/');
  return i >= 0 ? p.slice(i + 1) : p;
}

function dirPath(p: string): string {
  const i = p.lastIndexOf('/');
  return cleanPath(p.slice(0, i + 1));
}

function extPath(p: string): string {
  for (let i = p.length - 1; i >= 0 && p[i] !== '/'; i--) if (p[i] === '.') return p.slice(i);
  return '';
}

// ---- URLs (net/url) ----

/** url.PathUnescape-style decoding; null on a bad escape (Go: invalid URL escape). */
function unescapeURL(s: string, plusIsSpace = false): string | null {
  const bytes: number[] = [];
  const b = utf8Bytes(s);
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0x25) {
      const h = String.fromCharCode(b[i + 1] ?? 0, b[i + 2] ?? 0);
      if (!/^[0-9A-Fa-f]{2}$/.test(h)) return null;
      bytes.push(Number.parseInt(h, 16));
      i += 2;
    } else bytes.push(plusIsSpace && b[i] === 0x2b ? 0x20 : b[i]);
  }
  return Buffer.from(bytes).toString('utf8');
}

function badEscape(s: string): string {
  const i = s.indexOf('%');
  let j = i;
  while (j >= 0) {
    const h = s.slice(j + 1, j + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(h)) return `invalid URL escape ${quote(s.slice(j, j + 3))}`;
    j = s.indexOf('%', j + 3);
  }
  return 'invalid URL escape';
}

/** net/url's Parse, reduced to what sprig's urlParse reads. */
function urlParse(v: string): Record<string, unknown> {
  const fail = (msg: string): never => {
    throw new Error(`unable to parse url: parse ${quote(v)}: ${msg}`);
  };
  if (/[\x00-\x1f\x7f]/.test(v)) fail('net/url: invalid control character in URL');
  const hash = v.indexOf('#');
  const raw = hash >= 0 ? v.slice(0, hash) : v;
  let fragment = '';
  if (hash >= 0) {
    const f = unescapeURL(v.slice(hash + 1));
    if (f === null) fail(badEscape(v.slice(hash + 1)));
    fragment = f as string;
  }
  let scheme = '';
  let rest = raw;
  let path = '';
  if (raw === '*')
    return { scheme: '', host: '', hostname: '', path: '*', query: '', opaque: '', fragment, userinfo: '' };
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (/[a-zA-Z]/.test(c)) continue;
    if (/[0-9+.-]/.test(c)) {
      if (i === 0) break;
      continue;
    }
    if (c === ':') {
      if (i === 0) fail('missing protocol scheme');
      scheme = raw.slice(0, i).toLowerCase();
      rest = raw.slice(i + 1);
    }
    break;
  }
  let query = '';
  if (rest.endsWith('?') && rest.split('?').length === 2) rest = rest.slice(0, -1);
  else {
    const q = rest.indexOf('?');
    if (q >= 0) {
      query = rest.slice(q + 1);
      rest = rest.slice(0, q);
    }
  }
  let opaque = '';
  let host = '';
  let userinfo = '';
  if (!rest.startsWith('/')) {
    if (scheme !== '') {
      opaque = rest;
      return { scheme, host, hostname: '', path, query, opaque, fragment, userinfo };
    }
    if (rest.split('/')[0].includes(':')) fail('first path segment in URL cannot contain colon');
  }
  if ((scheme !== '' || !rest.startsWith('///')) && rest.startsWith('//')) {
    let auth = rest.slice(2);
    const slash = auth.indexOf('/');
    rest = slash >= 0 ? auth.slice(slash) : '';
    auth = slash >= 0 ? auth.slice(0, slash) : auth;
    const at = auth.lastIndexOf('@');
    host = at >= 0 ? auth.slice(at + 1) : auth;
    const validPort = (p: string) => p === '' || /^:\d*$/.test(p);
    if (host.startsWith('[')) {
      const close = host.lastIndexOf(']');
      if (close < 0) fail("missing ']' in host");
      const port = host.slice(close + 1);
      if (!validPort(port)) fail(`invalid port ${quote(port)} after host`);
    } else {
      const colon = host.lastIndexOf(':');
      if (colon >= 0 && !validPort(host.slice(colon)))
        fail(`invalid port ${quote(host.slice(colon))} after host`);
    }
    const h = unescapeURL(host);
    if (h === null) fail(badEscape(host));
    host = h as string;
    if (at >= 0) {
      const ui = auth.slice(0, at);
      if (!/^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(ui)) fail('net/url: invalid userinfo');
      const colon = ui.indexOf(':');
      const user = unescapeURL(colon >= 0 ? ui.slice(0, colon) : ui);
      const pass = colon >= 0 ? unescapeURL(ui.slice(colon + 1)) : '';
      if (user === null || pass === null) fail(badEscape(ui));
      userinfo = escapeUserinfo(user as string) + (colon >= 0 ? ':' + escapeUserinfo(pass as string) : '');
    }
  }
  const p = unescapeURL(rest);
  if (p === null) fail(badEscape(rest));
  path = p as string;
  let hostname = host;
  if (host.startsWith('[')) hostname = host.slice(1, host.indexOf(']'));
  else {
    const colon = host.lastIndexOf(':');
    if (colon >= 0) hostname = host.slice(0, colon);
  }
  return { scheme, host, hostname, path, query, opaque, fragment, userinfo };
}

/** net/url's escape for a user name or password (encodeUserPassword). */
function escapeUserinfo(s: string): string {
  return Array.from(utf8Bytes(s))
    .map((b) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9\-._~$&+,;=]/.test(c) ? c : '%' + b.toString(16).toUpperCase().padStart(2, '0');
    })
    .join('');
}

function escapePath(p: string): string {
  return p.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/]/g, (c) =>
    Array.from(utf8Bytes(c))
      .map((b) => '%' + b.toString(16).toUpperCase().padStart(2, '0'))
      .join(''),
  );
}

function dictStr(d: Record<string, unknown>, key: string): string {
  if (!Object.hasOwn(d, key)) return '';
  const v = d[key];
  if (typeof v !== 'string') {
    const kind = v === null ? 'invalid' : reflectKind(v);
    if (v === null) throw new Error('runtime error: invalid memory address or nil pointer dereference');
    throw new Error(`unable to parse ${key} key, must be of type string, but ${kind} found`);
  }
  return v;
}

function urlJoin(d: Record<string, unknown>): string {
  const scheme = dictStr(d, 'scheme');
  const host = dictStr(d, 'host');
  const path = dictStr(d, 'path');
  const query = dictStr(d, 'query');
  const opaque = dictStr(d, 'opaque');
  const fragment = dictStr(d, 'fragment');
  const userinfo = dictStr(d, 'userinfo');
  let out = '';
  if (scheme !== '') out += scheme + ':';
  if (opaque !== '') out += opaque;
  else {
    if (scheme !== '' || host !== '' || userinfo !== '') {
      if (host !== '' || path !== '' || userinfo !== '') out += '//';
      if (userinfo !== '') out += userinfo + '@';
      out += host;
    }
    const ep = escapePath(path);
    if (ep !== '' && ep[0] !== '/' && host !== '') out += '/';
    // A relative path whose first segment has a colon would read as a scheme.
    if (out === '' && ep.split('/')[0].includes(':')) out += './';
    out += ep;
  }
  if (query !== '') out += '?' + query;
  if (fragment !== '') out += '#' + escapePath(fragment).replace(/%2F/g, '/');
  return out;
}

export function defineStrings(def: Def): void {
  def('trim', [S], (s: string) => s.replace(/^[\s\u0085]+|[\s\u0085]+$/gu, ''));
  def('upper', [S], (s: string) => s.toUpperCase());
  def('lower', [S], (s: string) => s.toLowerCase());
  def('title', [S], goTitle);
  def('untitle', [S], (s: string) => {
    let next = true;
    let out = '';
    for (const c of s) {
      if (isSpace(c)) {
        next = true;
        out += c;
      } else if (next) {
        out += c.toLowerCase();
        next = false;
      } else out += c;
    }
    return out;
  });
  def('substr', ['int', 'int', S], (start: number, end: number, s: string) => {
    const len = byteLength(s);
    if (start < 0) {
      if (end < 0 || end > len) throw sliceBoundsErr(0, end, len);
      return byteSlice(s, 0, end);
    }
    if (end < 0 || end > len) {
      if (start > len) throw sliceBoundsErr(start, len, len);
      return byteSlice(s, start);
    }
    if (start > end) throw sliceBoundsErr(start, end, len);
    return byteSlice(s, start, end);
  });
  def('repeat', ['int', S], (count: number, s: string) => {
    if (count < 0) throw new Error('strings: negative Repeat count');
    return s.repeat(count);
  });
  const trimAll = (a: string, b: string) => {
    const set = new Set(Array.from(a));
    const chars = Array.from(b);
    let i = 0;
    let j = chars.length;
    while (i < j && set.has(chars[i])) i++;
    while (j > i && set.has(chars[j - 1])) j--;
    return chars.slice(i, j).join('');
  };
  def('trimall', [S, S], trimAll);
  def('trimAll', [S, S], trimAll);
  def('trimSuffix', [S, S], (a: string, b: string) =>
    a !== '' && b.endsWith(a) ? b.slice(0, b.length - a.length) : b,
  );
  def('trimPrefix', [S, S], (a: string, b: string) => (a !== '' && b.startsWith(a) ? b.slice(a.length) : b));
  // goutils walks bytes, each read as a Latin-1 rune: UTF-8's 0x85 and 0xA0 bytes count as
  // spaces, and once anything is removed the other non-ASCII bytes come out as Latin-1 runes.
  def('nospace', [S], (s: string) => {
    const b = Array.from(utf8Bytes(s));
    const kept = b.filter((x) => !isSpaceByte(x));
    return kept.length === b.length ? s : String.fromCharCode(...kept);
  });
  def('initials', [S], (s: string) => {
    let gap = true;
    let out = '';
    for (const x of utf8Bytes(s)) {
      if (isSpaceByte(x)) gap = true;
      else if (gap) {
        out += String.fromCharCode(x);
        gap = false;
      }
    }
    return out;
  });
  def('swapcase', [S], swapCase);
  def('snakecase', [S], (s: string) => camelToLower(s, '_'));
  def('kebabcase', [S], (s: string) => camelToLower(s, '-'));
  def('camelcase', [S], toCamelCase);
  def('wrap', ['int', S], (l: number, s: string) => wrapCustom(s, l, '', false));
  def('wrapWith', ['int', S, S], (l: number, sep: string, s: string) => wrapCustom(s, l, sep, true));
  def('contains', [S, S], (sub: string, s: string) => s.includes(sub));
  def('hasPrefix', [S, S], (sub: string, s: string) => s.startsWith(sub));
  def('hasSuffix', [S, S], (sub: string, s: string) => s.endsWith(sub));
  def(
    'quote',
    [],
    (...v: unknown[]) =>
      v
        .filter((x) => x !== null)
        .map((x) => quote(strval(x)))
        .join(' '),
    'any',
  );
  def(
    'squote',
    [],
    (...v: unknown[]) =>
      v
        .filter((x) => x !== null)
        .map((x) => `'${sprint([x])}'`)
        .join(' '),
    'any',
  );
  def(
    'cat',
    [],
    (...v: unknown[]) =>
      v
        .filter((x) => x !== null)
        .map((x) => sprint([x]))
        .join(' '),
    'any',
  );
  const indent = (n: number, s: string) => {
    if (n < 0) throw new Error('strings: negative Repeat count');
    const pad = ' '.repeat(n);
    return pad + s.split('\n').join('\n' + pad);
  };
  def('indent', ['int', S], indent);
  def('nindent', ['int', S], (n: number, s: string) => '\n' + indent(n, s));
  def('replace', [S, S, S], (from: string, to: string, s: string) => {
    if (from === '') {
      const chars = Array.from(s);
      return to + chars.map((c) => c + to).join('');
    }
    return s.split(from).join(to);
  });
  def('plural', [S, S, 'int'], (one: string, many: string, n: number) => (n === 1 ? one : many));
  def('toString', ['any'], strval);
  def('abbrev', ['int', S], (w: number, s: string) => (w < 4 ? s : abbreviateFull(s, 0, w)));
  def('abbrevboth', ['int', 'int', S], (l: number, r: number, s: string) =>
    r < 4 || (l > 0 && r < 7) ? s : abbreviateFull(s, l, r),
  );
  def('trunc', ['int', S], (c: number, s: string) => {
    const len = byteLength(s);
    if (c < 0 && len + c > 0) return byteSlice(s, len + c);
    if (c >= 0 && len > c) return byteSlice(s, 0, c);
    return s;
  });
  def('join', [S, 'any'], (sep: string, v: unknown) => toStrings(v).join(sep));
  def('split', [S, S], (sep: string, s: string) => {
    const m: Record<string, string> = typed({}, 'string');
    goSplit(s, sep, -1).forEach((p, i) => {
      m['_' + i] = p;
    });
    return m;
  });
  def('splitList', [S, S], (sep: string, s: string) => strings(goSplit(s, sep, -1)));
  def('splitn', [S, 'int', S], (sep: string, n: number, s: string) => {
    const m: Record<string, string> = typed({}, 'string');
    goSplit(s, sep, n).forEach((p, i) => {
      m['_' + i] = p;
    });
    return m;
  });
  def('toStrings', ['any'], (v: unknown) => strings(toStrings(v)));
  def('sortAlpha', ['any'], (v: unknown) => {
    if (Array.isArray(v)) return strings(toStrings(v).sort(compareBytes));
    return strings([strval(v)]);
  });

  // encoding
  def('b64enc', [S], (s: string) => Buffer.from(s, 'utf8').toString('base64'));
  def('b64dec', [S], (text: string) => {
    // encoding/base64 skips line breaks.
    const s = text.replace(/[\r\n]/g, '');
    const err = base64Error(s);
    return err ?? Buffer.from(s, 'base64').toString('utf8');
  });
  def('b32enc', [S], (s: string) => base32Encode(utf8Bytes(s)));
  def('b32dec', [S], (s: string) => base32Decode(s));

  // regular expressions
  def('regexMatch', [S, S], (re: string, s: string) => {
    try {
      return findAll(compileGoRegexp(re), s, 1).length > 0;
    } catch (e) {
      // sprig ignores a bad pattern; a pattern that ran out of time is tend's own error.
      if (e instanceof RegexpBudgetError) throw e;
      return false;
    }
  });
  def('mustRegexMatch', [S, S], (re: string, s: string) => findAll(compileGoRegexp(re), s, 1).length > 0);
  const findAllFn = (c: (re: string) => RegExp) => (re: string, s: string, n: number) =>
    strings(findAll(c(re), s, n).map((m) => m[0]));
  def('regexFindAll', [S, S, 'int'], findAllFn(mustCompile));
  def('mustRegexFindAll', [S, S, 'int'], findAllFn(compileGoRegexp));
  const findFn = (c: (re: string) => RegExp) => (re: string, s: string) => findAll(c(re), s, 1)[0]?.[0] ?? '';
  def('regexFind', [S, S], findFn(mustCompile));
  def('mustRegexFind', [S, S], findFn(compileGoRegexp));
  const replFn = (c: (re: string) => RegExp, literal: boolean) => (re: string, s: string, repl: string) =>
    replaceAll(c(re), s, (m) => (literal ? repl : expandTemplate(repl, m)));
  def('regexReplaceAll', [S, S, S], replFn(mustCompile, false));
  def('mustRegexReplaceAll', [S, S, S], replFn(compileGoRegexp, false));
  def('regexReplaceAllLiteral', [S, S, S], replFn(mustCompile, true));
  def('mustRegexReplaceAllLiteral', [S, S, S], replFn(compileGoRegexp, true));
  def('regexSplit', [S, S, 'int'], (re: string, s: string, n: number) =>
    strings(regexSplit(mustCompile(re), re, s, n)),
  );
  def('mustRegexSplit', [S, S, 'int'], (re: string, s: string, n: number) =>
    strings(regexSplit(compileGoRegexp(re), re, s, n)),
  );
  def('regexQuoteMeta', [S], (s: string) => s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&'));

  // paths (tend runs on Linux: the os* variants are the same)
  for (const prefix of ['', 'os']) {
    const n = (x: string) => (prefix === '' ? x : 'os' + x[0].toUpperCase() + x.slice(1));
    def(n('base'), [S], basePath);
    def(n('dir'), [S], dirPath);
    def(n('clean'), [S], cleanPath);
    def(n('ext'), [S], extPath);
    def(n('isAbs'), [S], (p: string) => p.startsWith('/'));
  }

  def('urlParse', [S], urlParse);
  def('urlJoin', ['map[string]interface {}'], (d: Record<string, unknown> | null) => urlJoin(d ?? {}));
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** strings.SplitN */
export function goSplit(s: string, sep: string, n: number): string[] {
  if (n === 0) return [];
  if (sep === '') {
    const chars = Array.from(s);
    if (n > 0 && chars.length > n) return [...chars.slice(0, n - 1), chars.slice(n - 1).join('')];
    return chars;
  }
  const parts = s.split(sep);
  if (n > 0 && parts.length > n) return [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
  return parts;
}

/** sprig's strslice. */
export function toStrings(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x) => x !== null && x !== undefined).map(strval);
  if (v === null || v === undefined) return [];
  return [strval(v)];
}

function base64Error(s: string): string | null {
  // encoding/base64 StdEncoding: padded, reports the first bad byte.
  const valid = /^[A-Za-z0-9+/]$/;
  let i = 0;
  for (; i < s.length; i++) {
    if (s[i] === '=' || !valid.test(s[i])) break;
  }
  const n = i;
  if (i === s.length) {
    if (n % 4 === 0) return null;
    return `illegal base64 data at input byte ${n - (n % 4)}`;
  }
  if (s[i] !== '=') return `illegal base64 data at input byte ${i}`;
  const rem = n % 4;
  if (rem < 2) return `illegal base64 data at input byte ${i}`;
  const pad = rem === 2 ? '==' : '=';
  if (s.slice(i, i + pad.length) !== pad)
    return `illegal base64 data at input byte ${s[i + 1] === undefined ? s.length : i}`;
  if (i + pad.length !== s.length) return `illegal base64 data at input byte ${i + pad.length}`;
  return null;
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32Encode(b: Uint8Array): string {
  let out = '';
  for (let i = 0; i < b.length; i += 5) {
    const chunk = b.subarray(i, i + 5);
    let bits = 0n;
    for (let j = 0; j < 5; j++) bits = (bits << 8n) | BigInt(chunk[j] ?? 0);
    const chars = Math.ceil((chunk.length * 8) / 5);
    for (let j = 0; j < 8; j++) out += j < chars ? B32[Number((bits >> BigInt(35 - j * 5)) & 31n)] : '=';
  }
  return out;
}

function base32Decode(text: string): string {
  // encoding/base32's decoder (StdEncoding, padded), error offsets included.
  const src = Buffer.from(text.replace(/[\r\n]/g, ''), 'latin1');
  const olen = src.length;
  const out: number[] = [];
  let p = 0;
  let end = false;
  const err = (n: number) => `illegal base32 data at input byte ${n}`;
  while (p < olen && !end) {
    const dbuf = [0, 0, 0, 0, 0, 0, 0, 0];
    let dlen = 8;
    for (let j = 0; j < 8; ) {
      const left = olen - p;
      if (left === 0) return err(olen - left - j);
      const c = src[p++];
      const rest = olen - p;
      if (c === 61 && j >= 2 && rest < 8) {
        if (rest + j < 8 - 1) return err(olen);
        for (let k = 0; k < 8 - 1 - j; k++)
          if (rest > k && src[p + k] !== 61) return err(olen - rest + k - 1);
        dlen = j;
        end = true;
        if (dlen === 1 || dlen === 3 || dlen === 6) return err(olen - rest - 1);
        break;
      }
      const v = B32.indexOf(String.fromCharCode(c));
      if (v < 0) return err(olen - rest - 1);
      dbuf[j++] = v;
    }
    let bits = 0n;
    for (const v of dbuf) bits = (bits << 5n) | BigInt(v);
    const nbytes = [0, 0, 1, 0, 2, 3, 0, 4, 5][dlen];
    for (let k = 0; k < nbytes; k++) out.push(Number((bits >> BigInt(32 - k * 8)) & 255n));
    if (end) break;
  }
  return Buffer.from(out).toString('utf8');
}
