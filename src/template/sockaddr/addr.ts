/**
 * go-sockaddr's address model: IPv4 (uint32 address and mask), IPv6 (128-bit bigint address and
 * mask) and UNIX socket paths, with Go's parsing (net.ParseIP / net.ParseCIDR as of Go 1.19) and
 * printing (net.IP.String), the attributes `attr` and `join` read, and the comparisons the
 * sort clauses use.
 */
import { sprintf } from '../fmt.js';
import { FORWARDING_BLACKLIST, RFC_TABLE } from './rfc-table.js';

export interface IPv4Addr {
  readonly kind: 'ipv4';
  readonly address: number;
  readonly mask: number;
  readonly port: number;
}
export interface IPv6Addr {
  readonly kind: 'ipv6';
  readonly address: bigint;
  readonly mask: bigint;
  readonly port: number;
}
export interface UnixSock {
  readonly kind: 'unix';
  readonly path: string;
}
export type IPAddr = IPv4Addr | IPv6Addr;
export type SockAddr = IPAddr | UnixSock;

/** go-sockaddr's SockAddrType bits. */
export const TYPE_UNIX = 1;
export const TYPE_IPV4 = 2;
export const TYPE_IPV6 = 4;
export const TYPE_IP = 6;

const V4_HOST = 0xffffffff;
export const V6_HOST = (1n << 128n) - 1n;

export function ipv4(address: number, mask = V4_HOST, port = 0): IPv4Addr {
  return { kind: 'ipv4', address: address >>> 0, mask: mask >>> 0, port };
}
export function ipv6(address: bigint, mask = V6_HOST, port = 0): IPv6Addr {
  return { kind: 'ipv6', address: address & V6_HOST, mask, port };
}

export function sockType(sa: SockAddr): number {
  switch (sa.kind) {
    case 'ipv4':
      return TYPE_IPV4;
    case 'ipv6':
      return TYPE_IPV6;
    case 'unix':
      return TYPE_UNIX;
    default: {
      const never: never = sa;
      return never;
    }
  }
}

export function typeString(sa: SockAddr): string {
  return sa.kind === 'ipv4' ? 'IPv4' : sa.kind === 'ipv6' ? 'IPv6' : 'UNIX';
}

export function isIP(sa: SockAddr): sa is IPAddr {
  return sa.kind !== 'unix';
}

// ---- masks ----

export function v4MaskFromBits(n: number): number {
  return n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
}
export function v6MaskFromBits(n: number): bigint {
  return n === 0 ? 0n : (V6_HOST << BigInt(128 - n)) & V6_HOST;
}

/** net.IPMask.Size: the count of leading ones, or 0 when the mask is not canonical. */
function maskOnes(mask: bigint, bits: number): number {
  let n = 0;
  while (n < bits && ((mask >> BigInt(bits - 1 - n)) & 1n) === 1n) n++;
  const rest = bits - n === 0 ? 0n : mask & ((1n << BigInt(bits - n)) - 1n);
  return rest === 0n ? n : 0;
}

/** go-sockaddr's IPv6 NetIPMask copies the mask's big-endian bytes without their leading zeros. */
function v6NetMask(mask: bigint): bigint {
  if (mask === 0n) return 0n;
  const hex = mask.toString(16);
  const bytes = Math.ceil(hex.length / 2);
  return mask << BigInt((16 - bytes) * 8);
}

export function maskbits(ip: IPAddr): number {
  return ip.kind === 'ipv4' ? maskOnes(BigInt(ip.mask), 32) : maskOnes(v6NetMask(ip.mask), 128);
}

/** The mask's bytes, for comparing network sizes (bytes.Compare of NetIPMask). */
export function netMaskBytes(ip: IPAddr): number[] {
  return ip.kind === 'ipv4' ? bigBytes(BigInt(ip.mask), 4) : bigBytes(v6NetMask(ip.mask), 16);
}

function bigBytes(v: bigint, n: number): number[] {
  const out = new Array<number>(n);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function compareBytes(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

// ---- printing (net.IP.String) ----

export function formatIPBytes(p: number[]): string {
  if (p.length === 4) return p.join('.');
  let mapped = p[10] === 0xff && p[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) if (p[i] !== 0) mapped = false;
  if (mapped) return p.slice(12).join('.');
  let e0 = -1;
  let e1 = -1;
  for (let i = 0; i < 16; i += 2) {
    let j = i;
    while (j < 16 && p[j] === 0 && p[j + 1] === 0) j += 2;
    if (j > i && j - i > e1 - e0) {
      e0 = i;
      e1 = j;
      i = j;
    }
  }
  if (e1 - e0 <= 2) {
    e0 = -1;
    e1 = -1;
  }
  let s = '';
  for (let i = 0; i < 16; i += 2) {
    if (i === e0) {
      s += '::';
      i = e1;
      if (i >= 16) break;
    } else if (i > 0) s += ':';
    s += ((p[i] << 8) | p[i + 1]).toString(16);
  }
  return s;
}

/**
 * go-sockaddr's bigIntToNetIPv6: the address's big-endian bytes; a value past 128 bits (which
 * `math "network" "+0"` can produce) keeps its 16 most significant bytes, as Go's copy does.
 */
export function v6Bytes(address: bigint): number[] {
  if (address <= V6_HOST) return bigBytes(address, 16);
  const n = Math.ceil(address.toString(16).length / 2);
  return bigBytes(address >> BigInt((n - 16) * 8), 16);
}

export function netIPString(ip: IPAddr): string {
  return ip.kind === 'ipv4'
    ? formatIPBytes(bigBytes(BigInt(ip.address), 4))
    : formatIPBytes(v6Bytes(ip.address));
}

export function sockAddrString(sa: SockAddr): string {
  switch (sa.kind) {
    case 'unix':
      return sprintf('%+q', [sa.path]);
    case 'ipv4':
      if (sa.port !== 0) return `${netIPString(sa)}:${sa.port}`;
      return maskbits(sa) === 32 ? netIPString(sa) : `${netIPString(sa)}/${maskbits(sa)}`;
    case 'ipv6':
      if (sa.port !== 0) return `[${netIPString(sa)}]:${sa.port}`;
      return maskbits(sa) === 128 ? netIPString(sa) : `${netIPString(sa)}/${maskbits(sa)}`;
    default: {
      const never: never = sa;
      return never;
    }
  }
}

// ---- network arithmetic ----

export function networkAddress(ip: IPv4Addr): number;
export function networkAddress(ip: IPv6Addr): bigint;
export function networkAddress(ip: IPAddr): number | bigint {
  if (ip.kind === 'ipv4') return (ip.address & ip.mask) >>> 0;
  return ip.address & v6NetMask(ip.mask);
}

export function broadcastAddress(ip: IPv4Addr): number {
  return ((ip.address & ip.mask) | ~ip.mask) >>> 0;
}

export function firstUsable(ip: IPAddr): IPAddr {
  if (ip.kind === 'ipv4') {
    let a = networkAddress(ip);
    if (maskbits(ip) < 31) a++;
    return ipv4(a);
  }
  return ipv6(networkAddress(ip));
}

export function lastUsable(ip: IPAddr): IPAddr {
  if (ip.kind === 'ipv4') {
    let a = broadcastAddress(ip);
    if (maskbits(ip) < 31) a--;
    return ipv4(a);
  }
  return ipv6((ip.address & ip.mask) | (V6_HOST ^ ip.mask));
}

export function network(ip: IPAddr): IPAddr {
  return ip.kind === 'ipv4' ? ipv4(networkAddress(ip), ip.mask) : ipv6(networkAddress(ip), ip.mask);
}

/** SockAddr.Contains: a network contains another of the same family lying wholly inside it. */
export function contains(net: SockAddr, sa: SockAddr): boolean {
  if (net.kind === 'ipv4') {
    if (sa.kind !== 'ipv4') return false;
    return networkAddress(net) <= networkAddress(sa) && broadcastAddress(net) >= broadcastAddress(sa);
  }
  if (net.kind === 'ipv6') {
    if (sa.kind !== 'ipv6') return false;
    const xf = firstUsable(net) as IPv6Addr;
    const yf = firstUsable(sa) as IPv6Addr;
    if (xf.address > yf.address) return false;
    const xl = lastUsable(net) as IPv6Addr;
    const yl = lastUsable(sa) as IPv6Addr;
    return xl.address >= yl.address;
  }
  // UnixSock embeds a nil SockAddr: go-sockaddr would panic here; nothing contains via a path.
  return false;
}

// ---- RFCs ----

const RFCS = new Map<number, SockAddr[]>(
  RFC_TABLE.map(([n, nets]) => [
    n,
    nets.map((s) => {
      const [fam, hex, bits] = s.split('/');
      const b = Number(bits);
      return fam === '4'
        ? ipv4(Number.parseInt(hex, 16), v4MaskFromBits(b))
        : ipv6(BigInt('0x' + hex), v6MaskFromBits(b));
    }),
  ]),
);

export function knownRFC(n: number): SockAddr[] | undefined {
  return RFCS.get(n);
}

export function isRFC(n: number, sa: SockAddr): boolean {
  const nets = RFCS.get(n);
  return nets?.some((net) => contains(net, sa)) ?? false;
}

export function isForwardable(sa: SockAddr): boolean {
  return !isRFC(FORWARDING_BLACKLIST, sa);
}

// ---- comparisons for sorting: -1 receiver first, 0 defer, 1 argument first ----

function cmpNum(a: number | bigint, b: number | bigint): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

export function cmpAddress(a: SockAddr, b: SockAddr): number {
  if (a.kind !== b.kind) return 0;
  if (a.kind === 'unix') {
    const p = (b as UnixSock).path;
    return a.path === p ? 0 : Buffer.compare(Buffer.from(a.path), Buffer.from(p));
  }
  return cmpNum(a.address, (b as IPAddr).address);
}

export function cmpPort(a: SockAddr, b: SockAddr): number {
  if (a.kind === 'unix' || b.kind === 'unix') return 0;
  return cmpNum(a.port, b.port);
}

export function cmpPrivate(a: SockAddr, b: SockAddr): number {
  if (a.kind === 'unix') return 0;
  const recv = isRFC(6890, a);
  if (b.kind !== a.kind) return recv ? -1 : 0;
  const arg = isRFC(6890, b);
  if (recv === arg) return 0;
  return recv ? -1 : 1;
}

export function cmpNetworkSize(a: SockAddr, b: SockAddr): number {
  if (a.kind !== b.kind) return 0;
  if (a.kind === 'unix') throw new Error('interface conversion: sockaddr.UnixSock is not sockaddr.IPAddr');
  return compareBytes(netMaskBytes(a), netMaskBytes(b as IPAddr));
}

export function cmpType(a: SockAddr, b: SockAddr): number {
  return cmpNum(sockType(a), sockType(b));
}

// ---- attributes ----

function padLeft(s: string, n: number): string {
  return s.length >= n ? s : '0'.repeat(n - s.length) + s;
}

/** IPAddr, IPv4/IPv6 and UNIX attributes; `undefined` when the name is not one of them. */
export function sockAddrAttr(sa: SockAddr, name: string): string | undefined {
  if (sa.kind === 'unix') {
    if (name === 'path') return sa.path;
  } else {
    const v = ipAttr(sa, name);
    if (v !== undefined && v !== '') return v;
  }
  switch (name) {
    case 'string':
      return sockAddrString(sa);
    case 'type':
      return typeString(sa);
  }
  return undefined;
}

function ipAttr(ip: IPAddr, name: string): string | undefined {
  switch (name) {
    case 'address':
      return netIPString(ip);
    case 'binary':
      return ip.kind === 'ipv4' ? padLeft(ip.address.toString(2), 32) : padLeft(ip.address.toString(2), 128);
    case 'hex':
      return ip.kind === 'ipv4' ? padLeft(ip.address.toString(16), 8) : padLeft(ip.address.toString(16), 32);
    case 'first_usable':
      return sockAddrString(firstUsable(ip));
    case 'last_usable':
      return sockAddrString(lastUsable(ip));
    case 'host':
      return sockAddrString(
        ip.kind === 'ipv4' ? ipv4(ip.address, V4_HOST, ip.port) : ipv6(ip.address, V6_HOST, ip.port),
      );
    case 'mask_bits':
      return String(maskbits(ip));
    case 'netmask':
      return ip.kind === 'ipv4' ? sockAddrString(ipv4(ip.mask)) : sockAddrString(ipv6(ip.mask));
    case 'network':
      return netIPString(network(ip));
    case 'octets':
      return (ip.kind === 'ipv4' ? bigBytes(BigInt(ip.address), 4) : v6Bytes(ip.address)).join(' ');
    case 'port':
      return String(ip.port);
    case 'size':
      return ip.kind === 'ipv4'
        ? String(2 ** (32 - maskbits(ip)))
        : (1n << BigInt(128 - maskbits(ip))).toString();
    case 'broadcast':
      return ip.kind === 'ipv4' ? sockAddrString(ipv4(broadcastAddress(ip))) : undefined;
    case 'uint32':
      return ip.kind === 'ipv4' ? String(ip.address) : undefined;
    case 'uint128':
      return ip.kind === 'ipv6' ? ip.address.toString() : undefined;
  }
  return undefined;
}

// ---- parsing (net.ParseIP, net.ParseCIDR, sockaddr.NewIPAddr) ----

const BIG = 0xffffff;

function dtoi(s: string): [number, number, boolean] {
  let n = 0;
  let i = 0;
  for (; i < s.length && s[i] >= '0' && s[i] <= '9'; i++) {
    n = n * 10 + (s.charCodeAt(i) - 48);
    if (n >= BIG) return [BIG, i, false];
  }
  if (i === 0) return [0, 0, false];
  return [n, i, true];
}

function xtoi(s: string): [number, number, boolean] {
  let n = 0;
  let i = 0;
  for (; i < s.length; i++) {
    const c = s[i];
    let d: number;
    if (c >= '0' && c <= '9') d = c.charCodeAt(0) - 48;
    else if (c >= 'a' && c <= 'f') d = c.charCodeAt(0) - 87;
    else if (c >= 'A' && c <= 'F') d = c.charCodeAt(0) - 55;
    else break;
    n = n * 16 + d;
    if (n >= BIG) return [0, i, false];
  }
  if (i === 0) return [0, i, false];
  return [n, i, true];
}

/** Go's parseIPv4: four decimal octets, no leading zeros. */
function parseIPv4(s: string): number[] | null {
  const p: number[] = [];
  for (let i = 0; i < 4; i++) {
    if (s.length === 0) return null;
    if (i > 0) {
      if (s[0] !== '.') return null;
      s = s.slice(1);
    }
    const [n, c, ok] = dtoi(s);
    if (!ok || n > 0xff) return null;
    if (c > 1 && s[0] === '0') return null;
    s = s.slice(c);
    p.push(n);
  }
  return s.length === 0 ? p : null;
}

function parseIPv6(s: string): number[] | null {
  const ip = new Array<number>(16).fill(0);
  let ellipsis = -1;
  if (s.length >= 2 && s[0] === ':' && s[1] === ':') {
    ellipsis = 0;
    s = s.slice(2);
    if (s.length === 0) return ip;
  }
  let i = 0;
  while (i < 16) {
    const [n, c, ok] = xtoi(s);
    if (!ok || n > 0xffff) return null;
    if (c < s.length && s[c] === '.') {
      if (ellipsis < 0 && i !== 12) return null;
      if (i + 4 > 16) return null;
      const ip4 = parseIPv4(s);
      if (ip4 === null) return null;
      for (let k = 0; k < 4; k++) ip[i + k] = ip4[k];
      s = '';
      i += 4;
      break;
    }
    ip[i] = n >> 8;
    ip[i + 1] = n & 0xff;
    i += 2;
    s = s.slice(c);
    if (s.length === 0) break;
    if (s[0] !== ':' || s.length === 1) return null;
    s = s.slice(1);
    if (s[0] === ':') {
      if (ellipsis >= 0) return null;
      ellipsis = i;
      s = s.slice(1);
      if (s.length === 0) break;
    }
  }
  if (s.length !== 0) return null;
  if (i < 16) {
    if (ellipsis < 0) return null;
    const n = 16 - i;
    for (let j = i - 1; j >= ellipsis; j--) ip[j + n] = ip[j];
    for (let j = ellipsis + n - 1; j >= ellipsis; j--) ip[j] = 0;
  } else if (ellipsis >= 0) return null;
  return ip;
}

function v4in6(p: number[]): number[] {
  return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...p];
}

/** net.ParseIP, as 16 bytes. */
function parseIP(s: string): number[] | null {
  for (const c of s) {
    if (c === '.') {
      const p = parseIPv4(s);
      return p && v4in6(p);
    }
    if (c === ':') return parseIPv6(s);
  }
  return null;
}

/** net.IP.To4 of a 16-byte address. */
function to4(p: number[]): number[] | null {
  for (let i = 0; i < 10; i++) if (p[i] !== 0) return null;
  return p[10] === 0xff && p[11] === 0xff ? p.slice(12) : null;
}

function bytesToBig(p: number[]): bigint {
  let v = 0n;
  for (const b of p) v = (v << 8n) | BigInt(b);
  return v;
}

/** net.ParseCIDR: the 16-byte address, the prefix length and the address's family size. */
function parseCIDR(s: string): { ip: number[]; bits: number; iplen: number } | null {
  const i = s.indexOf('/');
  if (i < 0) return null;
  const addr = s.slice(0, i);
  const mask = s.slice(i + 1);
  let iplen = 4;
  let ip = parseIPv4(addr);
  let ip16 = ip && v4in6(ip);
  if (ip === null) {
    iplen = 16;
    ip16 = parseIPv6(addr);
  }
  const [n, c, ok] = dtoi(mask);
  if (ip16 === null || !ok || c !== mask.length || n < 0 || n > 8 * iplen) return null;
  ip = ip16;
  return { ip, bits: n, iplen };
}

/**
 * net.SplitHostPort then a numeric port, for `ip:port` and `[ipv6]:port`. Go would also resolve
 * host names and service names; tend accepts only literals (a template must not do DNS).
 */
function splitHostPort(s: string): { host: string; port: number } | null {
  const i = s.lastIndexOf(':');
  if (i < 0) return null;
  let host: string;
  if (s[0] === '[') {
    const end = s.indexOf(']');
    if (end < 0 || end + 1 !== i) return null;
    host = s.slice(1, end);
    if (host.includes('[') || host.includes(']')) return null;
  } else {
    host = s.slice(0, i);
    if (host.includes(':') || host.includes('[') || host.includes(']')) return null;
  }
  if (s.slice(i + 1).includes('[') || s.slice(i + 1).includes(']')) return null;
  const portStr = s.slice(i + 1);
  let port = 0;
  if (portStr !== '') {
    if (!/^[+-]?[0-9]+$/.test(portStr)) return null;
    port = Number(portStr);
    if (!Number.isFinite(port) || port < 0 || port > 0xffff) return null;
  }
  return { host, port };
}

export function newIPv4Addr(input: string): IPv4Addr | null {
  let s = input;
  const m = /\/([0f]{8})$/.exec(s);
  if (m) s = s.slice(0, m.index);
  const cidr = parseCIDR(s);
  if (cidr) {
    const v4 = to4(cidr.ip);
    if (v4 === null) return null;
    let maskBits = cidr.bits;
    if (cidr.iplen === 16) {
      // go-sockaddr reads the first 32 bits of the 128-bit mask, unless the prefix is >= 96.
      maskBits = cidr.bits >= 96 ? cidr.bits - 96 : Math.min(cidr.bits, 32);
    }
    const mask = v4MaskFromBits(maskBits);
    return ipv4(Number(bytesToBig(v4)), mask);
  }
  const hp = splitHostPort(s);
  if (hp) {
    // Go resolves "tcp4" addresses: an IPv4 (or IPv4-mapped) literal host; an empty one fails.
    const ip = parseIP(hp.host);
    const v4 = ip && to4(ip);
    if (v4) return ipv4(Number(bytesToBig(v4)), V4_HOST, hp.port);
    if (hp.host === '' || ip !== null) return null;
  }
  const ip = parseIP(s);
  if (ip !== null) {
    const v4 = to4(ip);
    if (v4 === null) return null;
    return ipv4(Number(bytesToBig(v4)));
  }
  return null;
}

export function newIPv6Addr(input: string): IPv6Addr | null {
  let s = input;
  let v6 = false;
  for (const c of s) {
    if (c === '.') break;
    if (c === ':') {
      v6 = true;
      break;
    }
  }
  if (!v6) return null;
  const hp = splitHostPort(s);
  if (hp) {
    const pct = hp.host.indexOf('%');
    const host = pct >= 0 ? hp.host.slice(0, pct) : hp.host;
    const ip = (pct < 0 || pct < hp.host.length - 1) && host.includes(':') ? parseIPv6(host) : null;
    // "tcp6" takes IPv6 literals only: an IPv4-mapped one is refused.
    if (ip !== null && to4(ip) === null) return ipv6(bytesToBig(ip), V6_HOST, hp.port);
  }
  if (s.length > 2 && s[0] === '[' && s[s.length - 1] === ']') s = s.slice(1, -1);
  const ip = parseIP(s);
  if (ip !== null) return ipv6(bytesToBig(ip));
  const cidr = parseCIDR(s);
  if (cidr) return ipv6(bytesToBig(cidr.ip), v6MaskFromBits(cidr.iplen === 4 ? cidr.bits + 96 : cidr.bits));
  return null;
}

/** sockaddr.NewIPAddr: IPv4 first, then IPv6; Go's error text. */
export function newIPAddr(s: string): IPAddr {
  const a = newIPv4Addr(s) ?? newIPv6Addr(s);
  if (a === null) throw new Error(`invalid IPAddr ${s}`);
  return a;
}

/** An IPv6 literal (no zone) as a 128-bit number, or null. */
export function parseIPv6Literal(s: string): bigint | null {
  const p = parseIPv6(s);
  return p && bytesToBig(p);
}
