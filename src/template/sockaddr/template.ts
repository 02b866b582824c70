/**
 * go-sockaddr's template language (github.com/hashicorp/go-sockaddr/template) on tend's Go
 * template engine, and consul-template's `sockaddr` function over it: the arguments are joined
 * with spaces into `{{ … }}`, evaluated with the host's addresses as dot, and the output returned.
 */
import { TemplateError } from '../errors.js';
import type { FuncMap, FuncSpec } from '../exec.js';
import { sprintf } from '../fmt.js';
import { execute, parse } from '../template.js';
import { GoStruct, goTypeOf, type MethodTable, named, typed } from '../values.js';
import {
  firstUsable,
  type IPAddr,
  lastUsable,
  maskbits,
  netIPString,
  network,
  type SockAddr,
  sockAddrAttr,
  sockAddrString,
  typeString,
} from './addr.js';
import {
  excludeIfs,
  flagsString,
  getAllInterfaces,
  getDefaultInterfaces,
  getInterfaceIP,
  getInterfaceIPs,
  getPrivateInterfaces,
  getPrivateIP,
  getPrivateIPs,
  getPublicInterfaces,
  getPublicIP,
  getPublicIPs,
  hardwareAddrString,
  type IfAddr,
  type InterfaceSource,
  ifAddrString,
  ifAddrsMath,
  ifAttr,
  includeIfs,
  joinIfAddrs,
  limitIfAddrs,
  type NetInterface,
  offsetIfAddrs,
  sortIfBy,
  uniqueIfAddrsBy,
} from './ifaddrs.js';
import { linuxInterfaces } from './interfaces.js';

const IFADDRS = 'sockaddr.IfAddrs';
const S = 'string';

// ---- Go values ----

const backing = new WeakMap<object, IfAddr>();

function stringer(typeName: string, s: string): GoStruct {
  return new GoStruct(typeName, {}, { String: { params: [], fn: () => s } });
}

function sockAddrValue(sa: SockAddr): GoStruct {
  const methods: MethodTable = {
    String: { params: [], fn: () => sockAddrString(sa) },
    Type: { params: [], fn: () => stringer('sockaddr.SockAddrType', typeString(sa)) },
  };
  if (sa.kind === 'unix') {
    methods.Path = { params: [], fn: () => sa.path };
    return new GoStruct('sockaddr.UnixSock', { SockAddr: null }, methods);
  }
  const ip: IPAddr = sa;
  Object.assign(methods, {
    Maskbits: { params: [], fn: () => maskbits(ip) },
    NetIP: { params: [], fn: () => stringer('*net.IP', netIPString(ip)) },
    IPPort: { params: [], fn: () => ip.port },
    AddressBinString: { params: [], fn: () => sockAddrAttr(ip, 'binary') },
    AddressHexString: { params: [], fn: () => sockAddrAttr(ip, 'hex') },
    FirstUsable: { params: [], fn: () => sockAddrValue(firstUsable(ip)) },
    LastUsable: { params: [], fn: () => sockAddrValue(lastUsable(ip)) },
    Network: { params: [], fn: () => sockAddrValue(network(ip)) },
    Octets: { params: [], fn: () => typed((sockAddrAttr(ip, 'octets') ?? '').split(' ').map(Number), 'int') },
  } satisfies MethodTable);
  const typeName = ip.kind === 'ipv4' ? 'sockaddr.IPv4Addr' : 'sockaddr.IPv6Addr';
  return new GoStruct(typeName, { IPAddr: null, Address: ip.address, Mask: ip.mask, Port: ip.port }, methods);
}

function interfaceValue(i: NetInterface): GoStruct {
  return new GoStruct('net.Interface', {
    Index: i.index,
    MTU: i.mtu,
    Name: i.name,
    HardwareAddr: stringer('net.HardwareAddr', hardwareAddrString(i.hardwareAddr)),
    Flags: stringer('net.Flags', flagsString(i.flags)),
  });
}

/** An IfAddr as templates see it: fields SockAddr and Interface, the interface's fields promoted. */
function ifAddrValue(a: IfAddr): GoStruct {
  const iface = interfaceValue(a.iface);
  const v = new GoStruct(
    'sockaddr.IfAddr',
    { SockAddr: sockAddrValue(a.sa), Interface: iface, ...iface.fields },
    {
      String: { params: [], fn: () => ifAddrString(a) },
      Attr: { params: [S], fn: (name: string) => ifAttr(a, name) },
      Type: { params: [], fn: () => stringer('sockaddr.SockAddrType', typeString(a.sa)) },
    },
  );
  backing.set(v, a);
  return v;
}

function ifAddrsValue(list: IfAddr[]): GoStruct[] {
  const arr = typed(list.map(ifAddrValue), 'sockaddr.IfAddr');
  const methods = (c: GoStruct[]): MethodTable => ({ Len: { params: [], fn: () => c.length } });
  return named(arr, IFADDRS, methods(arr), methods);
}

function fromValue(v: unknown): IfAddr | undefined {
  return v !== null && typeof v === 'object' ? backing.get(v) : undefined;
}

function fromValues(v: GoStruct[] | null): IfAddr[] {
  // A nil IfAddrs (`nil` argument) is an empty list in Go.
  return (v ?? []).map((e) => {
    const a = fromValue(e);
    if (!a) throw new Error('not a sockaddr.IfAddr');
    return a;
  });
}

/** go-sockaddr's template functions over one interface source. */
export function sockaddrFuncs(src: InterfaceSource): FuncMap {
  const list = (fn: () => IfAddr[]): FuncSpec => ({ params: [], fn: () => ifAddrsValue(fn()) });
  return {
    GetAllInterfaces: list(() => getAllInterfaces(src)),
    GetDefaultInterfaces: list(() => getDefaultInterfaces(src)),
    GetPrivateInterfaces: list(() => getPrivateInterfaces(src)),
    GetPublicInterfaces: list(() => getPublicInterfaces(src)),
    sort: { params: [S, IFADDRS], fn: (sel: string, v) => ifAddrsValue(sortIfBy(src, sel, fromValues(v))) },
    exclude: {
      params: [S, S, IFADDRS],
      fn: (sel: string, p: string, v) => ifAddrsValue(excludeIfs(sel, p, fromValues(v))),
    },
    include: {
      params: [S, S, IFADDRS],
      fn: (sel: string, p: string, v) => ifAddrsValue(includeIfs(sel, p, fromValues(v))),
    },
    attr: {
      params: [S, 'any'],
      fn: (name: string, v: unknown) => {
        const one = fromValue(v);
        if (one) return ifAttr(one, name.toLowerCase());
        if (Array.isArray(v) && goTypeOf(v) === IFADDRS) {
          const l = fromValues(v as GoStruct[]);
          return l.length === 0 ? '' : ifAttr(l[0], name.toLowerCase());
        }
        throw new Error(sprintf('unable to obtain attribute %s from type %T (%v)', [name, v, v]));
      },
    },
    join: {
      params: [S, S, IFADDRS],
      fn: (sel: string, sep: string, v) => joinIfAddrs(sel, sep, fromValues(v)),
    },
    limit: { params: ['uint', IFADDRS], fn: (n: number, v) => ifAddrsValue(limitIfAddrs(n, fromValues(v))) },
    offset: { params: ['int', IFADDRS], fn: (n: number, v) => ifAddrsValue(offsetIfAddrs(n, fromValues(v))) },
    unique: {
      params: [S, IFADDRS],
      fn: (sel: string, v) => ifAddrsValue(uniqueIfAddrsBy(sel, fromValues(v))),
    },
    math: {
      params: [S, S, IFADDRS],
      fn: (op: string, val: string, v) => ifAddrsValue(ifAddrsMath(op, val, fromValues(v))),
    },
    GetPrivateIP: { params: [], fn: () => getPrivateIP(src) },
    GetPrivateIPs: { params: [], fn: () => getPrivateIPs(src) },
    GetPublicIP: { params: [], fn: () => getPublicIP(src) },
    GetPublicIPs: { params: [], fn: () => getPublicIPs(src) },
    GetInterfaceIP: { params: [S], fn: (re: string) => getInterfaceIP(src, re) },
    GetInterfaceIPs: { params: [S], fn: (re: string) => getInterfaceIPs(src, re) },
  };
}

/** go-sockaddr's template.ParseIfAddrs: evaluate `input` with `addrs` as dot. */
export function parseIfAddrs(input: string, src: InterfaceSource, addrs: IfAddr[]): string {
  const funcs = sockaddrFuncs(src);
  let tpl: ReturnType<typeof parse>;
  try {
    tpl = parse('sockaddr.Parse', input, { missingKey: 'error', funcs });
  } catch (e) {
    throw new Error(`unable to parse template ${sprintf('%+q', [input])}: ${(e as Error).message}`);
  }
  try {
    return execute(tpl, ifAddrsValue(addrs));
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    throw new Error(`unable to execute sockaddr input ${sprintf('%+q', [input])}: ${e.message}`);
  }
}

/** go-sockaddr's template.Parse: the host's addresses as dot. */
export function parseSockaddr(input: string, src: InterfaceSource): string {
  let addrs: IfAddr[];
  try {
    addrs = getAllInterfaces(src);
  } catch (e) {
    throw new Error(`unable to query interface addresses: ${(e as Error).message}`);
  }
  return parseIfAddrs(input, src, addrs);
}

/**
 * consul-template's `sockaddr ARGS...`: `{{ ARGS }}` through go-sockaddr's template language.
 * `source` is asked afresh on each call (default: this Linux host).
 */
export function sockaddrFunc(source: () => InterfaceSource = () => linuxInterfaces()): FuncSpec {
  return {
    params: [],
    variadic: S,
    fn: (...args: string[]) => parseSockaddr(`{{ ${args.join(' ')} }}`, source()),
  };
}
