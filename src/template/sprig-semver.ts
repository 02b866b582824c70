/** sprig's semver and semverCompare: Masterminds/semver v3.2's versions and constraints. */
import type { FuncSpec } from './exec.js';
import { GoInt, GoStruct } from './values.js';

type Def = (name: string, params: string[], fn: FuncSpec['fn'], variadic?: string) => void;

interface Version {
  major: bigint;
  minor: bigint;
  patch: bigint;
  pre: string;
  metadata: string;
  original: string;
}

const SV = String.raw`v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?`;
const versionRe = new RegExp(`^${SV}$`);
const CV = String.raw`v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?`;
const OPS = String.raw`=||!=|>|<|>=|=>|<=|=<|~|~>|\^`;
const constraintRe = new RegExp(String.raw`^\s*(${OPS})\s*(${CV})\s*$`);
const rangeRe = new RegExp(String.raw`\s*(${CV})\s+-\s+(${CV})\s*`, 'g');
const findRe = new RegExp(String.raw`(${OPS})\s*(${CV})`, 'g');
const validRe = new RegExp(String.raw`^(\s*(${OPS})\s*(${CV})\s*)((?:\s+|,\s*)(${OPS})\s*(${CV})\s*)*$`);

const MAX_U64 = 18446744073709551615n;

function parseU64(s: string): bigint {
  const n = BigInt(s);
  if (n > MAX_U64)
    throw new Error(`Error parsing version segment: strconv.ParseUint: parsing "${s}": value out of range`);
  return n;
}

export function newVersion(v: string): Version {
  const m = versionRe.exec(v);
  if (!m) throw new Error('Invalid Semantic Version');
  const sv: Version = {
    major: parseU64(m[1]),
    minor: m[2] ? parseU64(m[2].slice(1)) : 0n,
    patch: m[3] ? parseU64(m[3].slice(1)) : 0n,
    pre: m[5] ?? '',
    metadata: m[8] ?? '',
    original: v,
  };
  if (sv.pre !== '') {
    for (const p of sv.pre.split('.')) {
      if (/^[0-9]*$/.test(p)) {
        if (p.length > 1 && p[0] === '0') throw new Error('Version segment starts with 0');
      } else if (!/^[0-9A-Za-z-]*$/.test(p)) throw new Error('Invalid Prerelease string');
    }
  }
  if (sv.metadata !== '') {
    for (const p of sv.metadata.split('.'))
      if (!/^[0-9A-Za-z-]*$/.test(p)) throw new Error('Invalid Metadata string');
  }
  return sv;
}

function versionString(v: Version): string {
  let s = `${v.major}.${v.minor}.${v.patch}`;
  if (v.pre !== '') s += '-' + v.pre;
  if (v.metadata !== '') s += '+' + v.metadata;
  return s;
}

function cmpSeg(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function comparePrePart(s: string, o: string): number {
  if (s === o) return 0;
  if (s === '') return o !== '' ? -1 : 1;
  if (o === '') return s !== '' ? 1 : -1;
  const on = /^\d+$/.test(o) && BigInt(o) <= MAX_U64;
  const sn = /^\d+$/.test(s) && BigInt(s) <= MAX_U64;
  if (!on && !sn) return Buffer.compare(Buffer.from(s), Buffer.from(o)) > 0 ? 1 : -1;
  if (!on) return -1;
  if (!sn) return 1;
  return BigInt(s) > BigInt(o) ? 1 : -1;
}

function comparePrerelease(v: string, o: string): number {
  const a = v.split('.');
  const b = o.split('.');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = comparePrePart(a[i] ?? '', b[i] ?? '');
    if (d !== 0) return d;
  }
  return 0;
}

export function compare(v: Version, o: Version): number {
  const d = cmpSeg(v.major, o.major) || cmpSeg(v.minor, o.minor) || cmpSeg(v.patch, o.patch);
  if (d !== 0) return d;
  if (v.pre === '' && o.pre === '') return 0;
  if (v.pre === '') return 1;
  if (o.pre === '') return -1;
  return comparePrerelease(v.pre, o.pre);
}

interface Constraint {
  con: Version;
  op: string;
  minorDirty: boolean;
  patchDirty: boolean;
  dirty: boolean;
}

const isX = (s: string) => s === 'x' || s === '*' || s === 'X';

function parseConstraint(c: string): Constraint {
  if (c.length === 0) {
    return { con: newVersion('0.0.0'), op: '', minorDirty: false, patchDirty: false, dirty: true };
  }
  const m = constraintRe.exec(c);
  if (!m) throw new Error(`improper constraint: ${c}`);
  const major = m[3];
  const minor = m[4] ?? '';
  const patch = m[5] ?? '';
  const pre = m[6] ?? '';
  let ver = m[2];
  let minorDirty = false;
  let patchDirty = false;
  let dirty = false;
  if (isX(major) || major === '') {
    ver = `0.0.0${pre}`;
    dirty = true;
  } else if (isX(minor.replace(/^\./, '')) || minor === '') {
    minorDirty = true;
    dirty = true;
    ver = `${major}.0.0${pre}`;
  } else if (isX(patch.replace(/^\./, '')) || patch === '') {
    dirty = true;
    patchDirty = true;
    ver = `${major}${minor}.0${pre}`;
  }
  let con: Version;
  try {
    con = newVersion(ver);
  } catch {
    throw new Error('constraint Parser Error');
  }
  return { con, op: m[1], minorDirty, patchDirty, dirty };
}

function tilde(v: Version, c: Constraint): boolean {
  if (v.pre !== '' && c.con.pre === '') return false;
  if (compare(v, c.con) < 0) return false;
  if (c.con.major === 0n && c.con.minor === 0n && c.con.patch === 0n && !c.minorDirty && !c.patchDirty)
    return true;
  if (v.major !== c.con.major) return false;
  if (v.minor !== c.con.minor && !c.minorDirty) return false;
  return true;
}

function check(v: Version, c: Constraint): boolean {
  const preBlocked = v.pre !== '' && c.con.pre === '';
  switch (c.op) {
    case '':
    case '=':
      if (preBlocked) return false;
      if (c.dirty) return tilde(v, c);
      return compare(v, c.con) === 0;
    case '!=':
      if (c.dirty) {
        if (preBlocked) return false;
        if (c.con.major !== v.major) return true;
        if (c.con.minor !== v.minor && !c.minorDirty) return true;
        if (c.minorDirty) return false;
        if (c.con.patch !== v.patch && !c.patchDirty) return true;
        if (c.patchDirty) {
          if (v.pre !== '' || c.con.pre !== '') return comparePrerelease(v.pre, c.con.pre) !== 0;
          return false;
        }
      }
      return compare(v, c.con) !== 0;
    case '>':
      if (preBlocked) return false;
      if (!c.dirty) return compare(v, c.con) === 1;
      if (v.major > c.con.major) return true;
      if (v.major < c.con.major) return false;
      if (c.minorDirty) return false;
      if (c.patchDirty) return v.minor > c.con.minor;
      return compare(v, c.con) === 1;
    case '<':
      if (preBlocked) return false;
      return compare(v, c.con) < 0;
    case '>=':
    case '=>':
      if (preBlocked) return false;
      return compare(v, c.con) >= 0;
    case '<=':
    case '=<':
      if (preBlocked) return false;
      if (!c.dirty) return compare(v, c.con) <= 0;
      if (v.major > c.con.major) return false;
      if (v.major === c.con.major && v.minor > c.con.minor && !c.minorDirty) return false;
      return true;
    case '~':
    case '~>':
      return tilde(v, c);
    case '^': {
      if (preBlocked) return false;
      if (compare(v, c.con) < 0) return false;
      if (c.con.major > 0n || c.minorDirty) return v.major === c.con.major;
      if (c.con.major === 0n && v.major > 0n) return false;
      if (c.con.minor > 0n || c.patchDirty) return v.minor === c.con.minor;
      if (c.con.minor === 0n && v.minor > 0n) return false;
      return c.con.patch === v.patch;
    }
    default:
      return false;
  }
}

export function newConstraint(text: string): Constraint[][] {
  let c = text;
  // "1.2 - 1.4.5" becomes ">= 1.2, <= 1.4.5".
  for (const m of [...text.matchAll(rangeRe)]) c = c.replace(m[0], `>= ${m[1]}, <= ${m[11]}`);
  return c.split('||').map((v) => {
    if (!validRe.test(v)) throw new Error(`improper constraint: ${v}`);
    const cs = [...v.matchAll(findRe)].map((m) => m[0]);
    return (cs.length > 0 ? cs : [v]).map(parseConstraint);
  });
}

function versionStruct(v: Version): GoStruct {
  const self: GoStruct = new GoStruct(
    '*semver.Version',
    {
      major: new GoInt(num(v.major), 'uint64'),
      minor: new GoInt(num(v.minor), 'uint64'),
      patch: new GoInt(num(v.patch), 'uint64'),
      pre: v.pre,
      metadata: v.metadata,
      original: v.original,
    },
    {
      Major: { params: [], fn: () => new GoInt(num(v.major), 'uint64') },
      Minor: { params: [], fn: () => new GoInt(num(v.minor), 'uint64') },
      Patch: { params: [], fn: () => new GoInt(num(v.patch), 'uint64') },
      Prerelease: { params: [], fn: () => v.pre },
      Metadata: { params: [], fn: () => v.metadata },
      Original: { params: [], fn: () => v.original },
      String: { params: [], fn: () => versionString(v) },
      Compare: { params: ['*semver.Version'], fn: (o: GoStruct) => compare(v, versionOf(o)) },
      LessThan: { params: ['*semver.Version'], fn: (o: GoStruct) => compare(v, versionOf(o)) < 0 },
      GreaterThan: { params: ['*semver.Version'], fn: (o: GoStruct) => compare(v, versionOf(o)) > 0 },
      Equal: { params: ['*semver.Version'], fn: (o: GoStruct) => compare(v, versionOf(o)) === 0 },
    },
  );
  VERSIONS.set(self, v);
  return self;
}

const VERSIONS = new WeakMap<GoStruct, Version>();

function versionOf(o: GoStruct | null): Version {
  const v = o && VERSIONS.get(o);
  if (!v) throw new Error('runtime error: invalid memory address or nil pointer dereference');
  return v;
}

function num(n: bigint): number | bigint {
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

export function defineSemver(def: Def): void {
  def('semver', ['string'], (s: string) => versionStruct(newVersion(s)));
  def('semverCompare', ['string', 'string'], (constraint: string, version: string) => {
    const cs = newConstraint(constraint);
    const v = newVersion(version);
    return cs.some((and) => and.every((c) => check(v, c)));
  });
}

/** What copystructure makes of a *semver.Version: its fields are unexported, so a zero version. */
export function zeroVersion(): GoStruct {
  return versionStruct({ major: 0n, minor: 0n, patch: 0n, pre: '', metadata: '', original: '' });
}
