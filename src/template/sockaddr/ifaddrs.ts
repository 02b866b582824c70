/**
 * go-sockaddr's IfAddr operations: an address on an interface, the filters behind `include` and
 * `exclude`, the sort clauses, `unique`, `join`, `limit`, `offset`, `math`, and the Get* helpers.
 * Messages are go-sockaddr's own, so errors read as they do in consul-template.
 */
import { quote, sprintf } from '../fmt.js';
import {
  cmpAddress,
  cmpNetworkSize,
  cmpPort,
  cmpPrivate,
  cmpType,
  contains,
  type IPv6Addr,
  ipv4,
  ipv6,
  isForwardable,
  isIP,
  knownRFC,
  lastUsable,
  maskbits,
  netIPString,
  networkAddress,
  newIPAddr,
  type SockAddr,
  sockAddrAttr,
  sockAddrString,
  sockType,
  TYPE_IP,
  TYPE_IPV4,
  TYPE_IPV6,
  TYPE_UNIX,
  V6_HOST,
  v4MaskFromBits,
  v6MaskFromBits,
} from './addr.js';
import { goSort } from './gosort.js';
import { compileGoRegexp, type GoRegexp } from './regexp.js';

/** net.Interface. Flags are Go's net.Flags bits (up 1, broadcast 2, loopback 4, pointtopoint 8, multicast 16, running 32). */
export interface NetInterface {
  readonly index: number;
  readonly mtu: number;
  readonly name: string;
  /** Empty when the interface has none (or only zeros, as Go reports loopback). */
  readonly hardwareAddr: readonly number[];
  readonly flags: number;
}

export interface IfAddr {
  readonly sa: SockAddr;
  readonly iface: NetInterface;
}

export const FLAG_UP = 1;
export const FLAG_BROADCAST = 2;
export const FLAG_LOOPBACK = 4;
export const FLAG_POINT_TO_POINT = 8;
export const FLAG_MULTICAST = 16;
export const FLAG_RUNNING = 32;
const FLAG_NAMES = ['up', 'broadcast', 'loopback', 'pointtopoint', 'multicast', 'running'];

export function flagsString(f: number): string {
  const names = FLAG_NAMES.filter((_, i) => (f & (1 << i)) !== 0);
  return names.length === 0 ? '0' : names.join('|');
}

export function hardwareAddrString(a: readonly number[]): string {
  return a.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** `%v` of a net.Interface: `{Index MTU Name HardwareAddr Flags}`. */
export function interfaceString(i: NetInterface): string {
  return `{${i.index} ${i.mtu} ${i.name} ${hardwareAddrString(i.hardwareAddr)} ${flagsString(i.flags)}}`;
}

/** IfAddr.String: the address, then the interface. */
export function ifAddrString(a: IfAddr): string {
  return `${sockAddrString(a.sa)} ${interfaceString(a.iface)}`;
}

/** What the Get* functions need: the host's addresses and its default interface. */
export interface InterfaceSource {
  /** Every address on every interface, in net.Interfaces() order (by index; IPv4 then IPv6). */
  interfaces(): IfAddr[];
  /** The interface of the default route; throws (go-sockaddr's message) when there is none. */
  defaultInterfaceName(): string;
}

// ---- attributes ----

/** IfAddr.Attr: `name` and `flags` from the interface, the rest from the address. */
export function ifAttr(a: IfAddr, attrName: string): string {
  if (attrName === 'flags') return flagsString(a.iface.flags);
  if (attrName === 'name' && a.iface.name !== '') return a.iface.name;
  const v = sockAddrAttr(a.sa, attrName);
  if (v !== undefined) return v;
  throw new Error(`unsupported attribute name ${quote(attrName)}`);
}

// ---- sorting ----

type Cmp = (p: IfAddr, q: IfAddr) => number;

/** sort.Sort with go-sockaddr's multi-key Less (the first comparator that decides wins). */
export function sortIfAddrs(list: IfAddr[], cmps: Cmp[]): void {
  goSort(list, (p, q) => {
    for (let k = 0; k < cmps.length; k++) {
      const x = cmps[k](p, q);
      if (x < 0) return true;
      if (x > 0) return false;
    }
    return false;
  });
}

const ascAddress: Cmp = (p, q) => cmpAddress(p.sa, q.sa);
const ascName: Cmp = (p, q) =>
  p.iface.name === q.iface.name ? 0 : Buffer.compare(Buffer.from(p.iface.name), Buffer.from(q.iface.name));
const ascPort: Cmp = (p, q) => cmpPort(p.sa, q.sa);
const ascPrivate: Cmp = (p, q) => cmpPrivate(p.sa, q.sa);
const ascSize: Cmp = (p, q) => cmpNetworkSize(p.sa, q.sa);
const ascType: Cmp = (p, q) => cmpType(p.sa, q.sa);
const desc =
  (c: Cmp): Cmp =>
  (p, q) =>
    -1 * c(p, q);

function ascDefault(src: InterfaceSource): Cmp {
  let name: string | null | undefined;
  return (p, q) => {
    if (name === undefined) {
      try {
        name = src.defaultInterfaceName();
      } catch {
        name = null;
      }
    }
    if (name === null) return 0;
    const a = p.iface.name === name;
    const b = q.iface.name === name;
    return a === b ? 0 : a ? -1 : 1;
  };
}

export function sortIfBy(src: InterfaceSource, selector: string, input: IfAddr[]): IfAddr[] {
  const out = [...input];
  const cmps: Cmp[] = [];
  for (const clause of selector.split(',')) {
    let c: Cmp;
    switch (clause.toLowerCase().trim()) {
      case '+address':
      case 'address':
        c = ascAddress;
        break;
      case '-address':
        c = desc(ascAddress);
        break;
      case '+default':
      case 'default':
        c = ascDefault(src);
        break;
      case '-default':
        c = desc(ascDefault(src));
        break;
      case '+name':
      case 'name':
        c = ascName;
        break;
      case '-name':
        c = desc(ascName);
        break;
      case '+port':
      case 'port':
        c = ascPort;
        break;
      case '-port':
        c = desc(ascPort);
        break;
      case '+private':
      case 'private':
        c = ascPrivate;
        break;
      case '-private':
        c = desc(ascPrivate);
        break;
      case '+size':
      case 'size':
        c = ascSize;
        break;
      case '-size':
        c = desc(ascSize);
        break;
      case '+type':
      case 'type':
        c = ascType;
        break;
      case '-type':
        c = desc(ascType);
        break;
      default:
        throw new Error(`unknown sort type: ${quote(clause)}`);
    }
    cmps.push(c);
  }
  sortIfAddrs(out, cmps);
  return out;
}

// ---- filters: [matched, excluded] ----

type Split = [IfAddr[], IfAddr[]];

function byPredicate(input: IfAddr[], pred: (a: IfAddr) => boolean): Split {
  const m: IfAddr[] = [];
  const x: IfAddr[] = [];
  for (const a of input) (pred(a) ? m : x).push(a);
  return [m, x];
}

function goRegexp(what: string, re: string): GoRegexp {
  try {
    return compileGoRegexp(re);
  } catch (e) {
    throw new Error(`Unable to compile ${what} regexp ${sprintf('%+q', [re])}: ${(e as Error).message}`);
  }
}

function byType(input: IfAddr[], t: number): Split {
  return byPredicate(input, (a) => (sockType(a.sa) & t) !== 0);
}

/** strconv.ParseUint(s, 10, 64)'s error text. */
function parseUint(s: string, fn = 'ParseUint'): bigint {
  if (s === '' || !/^[0-9]+$/.test(s)) throw new Error(`strconv.${fn}: parsing ${quote(s)}: invalid syntax`);
  const v = BigInt(s);
  if (v > 0xffffffffffffffffn) throw new Error(`strconv.${fn}: parsing ${quote(s)}: value out of range`);
  return v;
}

function ifByRFC(param: string, input: IfAddr[]): Split {
  let n: bigint;
  try {
    n = parseUint(param);
  } catch (e) {
    throw new Error(`unable to parse RFC number ${quote(param)}: ${(e as Error).message}`);
  }
  const nets = n <= 0xffffffffn ? knownRFC(Number(n)) : undefined;
  if (!nets) throw new Error(`unsupported RFC ${n}`);
  return byPredicate(input, (a) => nets.some((net) => contains(net, a.sa)));
}

function ifByRFCs(param: string, input: IfAddr[]): Split {
  const m: IfAddr[] = [];
  const x: IfAddr[] = [];
  for (const rfc of param.split('|')) {
    let r: Split;
    try {
      r = ifByRFC(rfc, input);
    } catch (e) {
      throw new Error(`unable to lookup RFC number ${quote(rfc)}: ${(e as Error).message}`);
    }
    m.push(...r[0]);
    x.push(...r[1]);
  }
  return [m, x];
}

function ifByMaskSize(param: string, input: IfAddr[]): Split {
  let size: bigint;
  try {
    size = parseUint(param);
  } catch (e) {
    throw new Error(`invalid exclude size argument (${quote(param)}): ${(e as Error).message}`);
  }
  const [ips, others] = byType(input, TYPE_IP);
  const m: IfAddr[] = [];
  const x = [...others];
  for (const a of ips) {
    if (!isIP(a.sa)) continue;
    if (a.sa.kind === 'ipv4' && size > 32n)
      throw new Error(`mask size out of bounds for IPv4 address: ${size}`);
    if (a.sa.kind === 'ipv6' && size > 128n)
      throw new Error(`mask size out of bounds for IPv6 address: ${size}`);
    (BigInt(maskbits(a.sa)) === size ? m : x).push(a);
  }
  return [m, x];
}

function ifByPort(param: string, input: IfAddr[]): Split {
  const re = goRegexp('port', param);
  const [ips, others] = byType(input, TYPE_IP);
  const m: IfAddr[] = [];
  const x = [...others];
  for (const a of ips) {
    if (!isIP(a.sa)) continue;
    (re.test(String(a.sa.port)) ? m : x).push(a);
  }
  return [m, x];
}

function ifByType(param: string, input: IfAddr[]): Split {
  const types = param.toLowerCase().split('|');
  for (const t of types) {
    if (!['ip', 'ipv4', 'ipv6', 'unix'].includes(t))
      throw new Error(`unsupported type ${quote(t)} ${quote(param)}`);
  }
  const bits: Record<string, number> = { ip: TYPE_IP, ipv4: TYPE_IPV4, ipv6: TYPE_IPV6, unix: TYPE_UNIX };
  const m: IfAddr[] = [];
  const x: IfAddr[] = [];
  // go-sockaddr files an address once per type named, in either list.
  for (const a of input) {
    for (const t of types) ((sockType(a.sa) & bits[t]) !== 0 ? m : x).push(a);
  }
  return [m, x];
}

/** Go's net.IP classification, on the 16-byte form of an address. */
function ipClass(a: SockAddr) {
  if (!isIP(a)) return null;
  let bytes: number[];
  if (a.kind === 'ipv4') {
    const v = a.address;
    bytes = [
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0xff,
      0xff,
      v >>> 24,
      (v >>> 16) & 0xff,
      (v >>> 8) & 0xff,
      v & 0xff,
    ];
  } else {
    bytes = [];
    for (let i = 15; i >= 0; i--) bytes.push(Number((a.address >> BigInt(i * 8)) & 0xffn));
  }
  let is4 = bytes[10] === 0xff && bytes[11] === 0xff;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) is4 = false;
  const v4 = bytes.slice(12);
  const allZero = bytes.every((b) => b === 0);
  const unspecified = allZero || (is4 && v4.every((b) => b === 0));
  const loopback = is4 ? v4[0] === 127 : bytes.slice(0, 15).every((b) => b === 0) && bytes[15] === 1;
  const multicast = is4 ? (v4[0] & 0xf0) === 0xe0 : bytes[0] === 0xff;
  const llMulticast = is4
    ? v4[0] === 224 && v4[1] === 0 && v4[2] === 0
    : bytes[0] === 0xff && (bytes[1] & 0x0f) === 0x02;
  const ilMulticast = !is4 && bytes[0] === 0xff && (bytes[1] & 0x0f) === 0x01;
  const llUnicast = is4 ? v4[0] === 169 && v4[1] === 254 : bytes[0] === 0xfe && (bytes[1] & 0xc0) === 0x80;
  const broadcast = is4 && v4.every((b) => b === 255);
  const globalUnicast = !broadcast && !unspecified && !loopback && !multicast && !llUnicast;
  return { unspecified, loopback, multicast, llMulticast, ilMulticast, llUnicast, globalUnicast };
}

function ifByFlag(param: string, input: IfAddr[]): Split {
  const want = new Set<string>();
  let ifFlags = 0;
  let checkFlags = false;
  let checkAttrs = false;
  for (const name of param.toLowerCase().split('|')) {
    switch (name) {
      case 'broadcast':
        checkFlags = true;
        ifFlags |= FLAG_BROADCAST;
        break;
      case 'down':
        checkFlags = true;
        ifFlags &= ~FLAG_UP;
        break;
      case 'forwardable':
      case 'global unicast':
      case 'interface-local multicast':
      case 'link-local multicast':
      case 'link-local unicast':
      case 'unspecified':
        checkAttrs = true;
        want.add(name);
        break;
      case 'loopback':
        checkAttrs = true;
        checkFlags = true;
        ifFlags |= FLAG_LOOPBACK;
        want.add(name);
        break;
      case 'multicast':
        checkAttrs = true;
        checkFlags = true;
        ifFlags |= FLAG_MULTICAST;
        want.add(name);
        break;
      case 'point-to-point':
        checkFlags = true;
        ifFlags |= FLAG_POINT_TO_POINT;
        break;
      case 'up':
        checkFlags = true;
        ifFlags |= FLAG_UP;
        break;
      default:
        throw new Error(`Unknown interface flag: ${sprintf('%+q', [name])}`);
    }
  }
  return byPredicate(input, (a) => {
    if (checkFlags && (a.iface.flags & ifFlags) === ifFlags) return true;
    if (!checkAttrs) return false;
    const c = ipClass(a.sa);
    if (c === null) return false;
    return (
      (want.has('global unicast') && c.globalUnicast) ||
      (want.has('interface-local multicast') && c.ilMulticast) ||
      (want.has('link-local multicast') && c.llMulticast) ||
      (want.has('link-local unicast') && c.llUnicast) ||
      (want.has('loopback') && c.loopback) ||
      (want.has('multicast') && c.multicast) ||
      (want.has('unspecified') && c.unspecified) ||
      (want.has('forwardable') && isForwardable(a.sa))
    );
  });
}

function ifByNetwork(param: string, input: IfAddr[]): Split {
  const m: IfAddr[] = [];
  const x: IfAddr[] = [];
  for (const s of param.split('|')) {
    let net: SockAddr;
    try {
      net = newIPAddr(s);
    } catch (e) {
      throw new Error(`unable to create an IP address from ${sprintf('%+q', [s])}: ${(e as Error).message}`);
    }
    for (const a of input) (contains(net, a.sa) ? m : x).push(a);
  }
  return [m, x];
}

function select(kind: 'include' | 'exclude', selector: string, param: string, input: IfAddr[]): IfAddr[] {
  let r: Split;
  switch (selector.toLowerCase()) {
    case 'address': {
      const re = goRegexp('address', param);
      r = byPredicate(input, (a) => re.test(sockAddrString(a.sa)));
      break;
    }
    case 'flag':
    case 'flags':
      r = ifByFlag(param, input);
      break;
    case 'name': {
      const re = goRegexp('name', param);
      r = byPredicate(input, (a) => re.test(a.iface.name));
      break;
    }
    case 'network':
      r = ifByNetwork(param, input);
      break;
    case 'port':
      r = ifByPort(param, input);
      break;
    case 'rfc':
    case 'rfcs':
      r = ifByRFCs(param, input);
      break;
    case 'size':
      r = ifByMaskSize(param, input);
      break;
    case 'type':
      r = ifByType(param, input);
      break;
    default:
      throw new Error(`invalid ${kind} selector ${quote(selector)}`);
  }
  return kind === 'include' ? r[0] : r[1];
}

export function includeIfs(selector: string, param: string, input: IfAddr[]): IfAddr[] {
  return select('include', selector, param, input);
}
export function excludeIfs(selector: string, param: string, input: IfAddr[]): IfAddr[] {
  return select('exclude', selector, param, input);
}

// ---- helpers ----

export function uniqueIfAddrsBy(selector: string, input: IfAddr[]): IfAddr[] {
  const attr = selector.toLowerCase();
  const out: IfAddr[] = [];
  let last = '';
  for (const a of input) {
    let v: string;
    if (attr === 'address') v = sockAddrString(a.sa);
    else if (attr === 'name') v = a.iface.name;
    else throw new Error(`unsupported unique constraint ${sprintf('%+q', [selector])}`);
    if (last === '' || last !== v) {
      last = v;
      out.push(a);
    }
  }
  return out;
}

export function joinIfAddrs(selector: string, sep: string, input: IfAddr[]): string {
  const attr = selector.toLowerCase();
  return input.map((a) => ifAttr(a, attr)).join(sep);
}

export function limitIfAddrs(lim: number, input: IfAddr[]): IfAddr[] {
  return input.slice(0, Math.min(lim, input.length));
}

export function offsetIfAddrs(off: number, input: IfAddr[]): IfAddr[] {
  const end = off < 0;
  const n = Math.abs(off);
  if (n > input.length) {
    throw new Error(
      `unable to seek past the end of the interface array: offset (${n}) exceeds the number of interfaces (${input.length})`,
    );
  }
  return end ? input.slice(input.length - n) : input.slice(n);
}

// ---- math ----

/** strconv.ParseInt(s, 10, bits)'s result or error text. */
function goParseInt(s: string, bits: number): bigint {
  const m = /^([+-]?)([0-9]+)$/.exec(s);
  if (!m) throw new Error(`strconv.ParseInt: parsing ${quote(s)}: invalid syntax`);
  const v = BigInt(m[1] + m[2]);
  const lim = 1n << BigInt(bits - 1);
  if (v < -lim || v >= lim) throw new Error(`strconv.ParseInt: parsing ${quote(s)}: value out of range`);
  return v;
}

function parseUint32(s: string): bigint {
  if (s === '' || !/^[0-9]+$/.test(s))
    throw new Error(`strconv.ParseUint: parsing ${quote(s)}: invalid syntax`);
  const v = BigInt(s);
  if (v > 0xffffffffn) throw new Error(`strconv.ParseUint: parsing ${quote(s)}: value out of range`);
  return v;
}

export function ifAddrMath(op: string, value: string, a: IfAddr): IfAddr {
  const convert = (f: () => bigint): bigint => {
    try {
      return f();
    } catch (e) {
      throw new Error(
        `unable to convert ${quote(value)} to int for operation ${quote(op)}: ${(e as Error).message}`,
      );
    }
  };
  const unsupported = (): never => {
    throw new Error(`unsupported type for operation ${quote(op)}: sockaddr.SockAddrType`);
  };
  const sa = a.sa;
  switch (op.toLowerCase()) {
    case 'address': {
      if (!/^\s*[+-]/.test(value)) throw new Error(`sign (+/-) is required for operation ${quote(op)}`);
      if (sa.kind === 'ipv4') {
        const i = convert(() => goParseInt(value, 33));
        return { sa: ipv4(Number(BigInt.asUintN(32, BigInt(sa.address) + i)), sa.mask), iface: a.iface };
      }
      if (sa.kind === 'ipv6') {
        const i = convert(() => goParseInt(value, 64));
        return { sa: ipv6((sa.address + i) & V6_HOST, sa.mask), iface: a.iface };
      }
      return unsupported();
    }
    case 'network': {
      if (!/^\s*[+-]/.test(value)) throw new Error(`sign (+/-) is required for operation ${quote(op)}`);
      if (sa.kind === 'ipv4') {
        const i = convert(() => goParseInt(value, 33));
        const hostBits = BigInt(~sa.mask >>> 0);
        const wrapped = i >= 0n ? i : 1n + i + hostBits;
        const host = BigInt.asUintN(32, wrapped) & hostBits;
        return {
          sa: ipv4(Number(BigInt.asUintN(32, BigInt(networkAddress(sa)) + host)), sa.mask),
          iface: a.iface,
        };
      }
      if (sa.kind === 'ipv6') {
        const i = convert(() => goParseInt(value, 64));
        let addr: bigint;
        if (i > 0n) addr = networkAddress(sa) + (i & ~sa.mask);
        else {
          const wrapped = (-i - 1n) & ~sa.mask;
          addr = (lastUsable(sa) as IPv6Addr).address - wrapped;
        }
        return { sa: { kind: 'ipv6', address: addr, mask: sa.mask, port: 0 }, iface: a.iface };
      }
      return unsupported();
    }
    case 'mask': {
      if (sa.kind === 'ipv4') {
        const i = Number(convert(() => parseUint32(value)));
        if (i > 32)
          throw new Error(`parameter for operation ${quote(op)} on ipv4 addresses must be between 0 and 32`);
        const m = v4MaskFromBits(i);
        const mask = m < sa.mask ? m : sa.mask;
        return { sa: ipv4((sa.address & m) >>> 0, mask), iface: a.iface };
      }
      if (sa.kind === 'ipv6') {
        const i = Number(convert(() => parseUint32(value)));
        if (i > 128)
          throw new Error(`parameter for operation ${quote(op)} on ipv6 addresses must be between 0 and 64`);
        const m = v6MaskFromBits(i);
        const mask = m < sa.mask ? m : sa.mask;
        return { sa: ipv6(sa.address & m, mask), iface: a.iface };
      }
      return unsupported();
    }
    default:
      throw new Error(`unsupported math operation: ${quote(op)}`);
  }
}

export function ifAddrsMath(op: string, value: string, input: IfAddr[]): IfAddr[] {
  return input.map((a) => {
    try {
      return ifAddrMath(op, value, a);
    } catch (e) {
      throw new Error(`unable to perform an IPMath operation on ${ifAddrString(a)}: ${(e as Error).message}`);
    }
  });
}

// ---- the Get* helpers ----

function ipString(a: IfAddr): string {
  return isIP(a.sa) ? netIPString(a.sa) : '';
}

function interfacesBy(src: InterfaceSource, rfcIncluded: boolean): IfAddr[] {
  const all = src.interfaces();
  if (all.length === 0) return [];
  let ifs = byType(all, TYPE_IP)[0];
  if (ifs.length === 0) return [];
  ifs = ifByFlag('forwardable', ifs)[0];
  ifs = ifByFlag('up', ifs)[0];
  if (ifs.length === 0) return [];
  sortIfAddrs(ifs, [ascDefault(src), ascType, ascSize]);
  const [inRFC, outRFC] = ifByRFC('6890', ifs);
  return rfcIncluded ? inRFC : outRFC;
}

export function getAllInterfaces(src: InterfaceSource): IfAddr[] {
  return src.interfaces();
}

export function getDefaultInterfaces(src: InterfaceSource): IfAddr[] {
  const name = src.defaultInterfaceName();
  return src.interfaces().filter((a) => a.iface.name === name);
}

export function getPrivateInterfaces(src: InterfaceSource): IfAddr[] {
  return interfacesBy(src, true);
}

export function getPublicInterfaces(src: InterfaceSource): IfAddr[] {
  return interfacesBy(src, false);
}

export function getPrivateIP(src: InterfaceSource): string {
  const ifs = getPrivateInterfaces(src);
  return ifs.length === 0 ? '' : ipString(ifs[0]);
}

export function getPublicIP(src: InterfaceSource): string {
  const ifs = getPublicInterfaces(src);
  return ifs.length === 0 ? '' : ipString(ifs[0]);
}

function allIPs(src: InterfaceSource, rfcIncluded: boolean): string {
  const all = src.interfaces();
  if (all.length === 0) return '';
  let ifs = byType(all, TYPE_IP)[0];
  if (ifs.length === 0) return '';
  sortIfAddrs(ifs, [ascType, ascSize]);
  const [inRFC, outRFC] = ifByRFC('6890', ifs);
  ifs = rfcIncluded ? inRFC : outRFC;
  if (ifs.length === 0) return '';
  if (rfcIncluded) ifs = ifs.filter((a) => isForwardable(a.sa));
  return ifs.map(ipString).join(' ');
}

export function getPrivateIPs(src: InterfaceSource): string {
  return allIPs(src, true);
}

export function getPublicIPs(src: InterfaceSource): string {
  return allIPs(src, false);
}

export function getInterfaceIP(src: InterfaceSource, nameRe: string): string {
  const re = goRegexp('name', nameRe);
  let ifs = src.interfaces().filter((a) => re.test(a.iface.name));
  ifs = ifByFlag('forwardable', ifs)[0];
  ifs = sortIfBy(src, '+type,+size', ifs);
  if (ifs.length === 0 || !isIP(ifs[0].sa)) return '';
  return netIPString(ifs[0].sa);
}

export function getInterfaceIPs(src: InterfaceSource, nameRe: string): string {
  const re = goRegexp('name', nameRe);
  let ifs = src.interfaces().filter((a) => re.test(a.iface.name));
  ifs = sortIfBy(src, '+type,+size', ifs);
  return ifs.map(ipString).join(' ');
}
