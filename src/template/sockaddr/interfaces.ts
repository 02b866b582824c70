/**
 * Where `sockaddr` finds the host's interfaces. The real source reads Linux (Node's
 * os.networkInterfaces() for the addresses, /sys/class/net for index, MTU, flags and hardware
 * address, /proc/net/route for the default route); tests hand in a fixed list.
 */
import { readFileSync } from 'node:fs';
import { type NetworkInterfaceInfo, networkInterfaces } from 'node:os';
import { ipv4, ipv6, parseIPv6Literal, v4MaskFromBits, v6MaskFromBits } from './addr.js';
import {
  FLAG_BROADCAST,
  FLAG_LOOPBACK,
  FLAG_MULTICAST,
  FLAG_POINT_TO_POINT,
  FLAG_RUNNING,
  FLAG_UP,
  type IfAddr,
  type InterfaceSource,
  type NetInterface,
} from './ifaddrs.js';

const NO_DEFAULT = 'No default interface found';

/** A fixed list (tests, or a caller that knows better); no default name means no default route. */
export function fixedInterfaces(list: IfAddr[], defaultName?: string): InterfaceSource {
  return {
    interfaces: () => [...list],
    defaultInterfaceName: () => {
      if (defaultName === undefined) throw new Error(NO_DEFAULT);
      return defaultName;
    },
  };
}

/** Build an IfAddr from `addr/prefix` text and interface facts (for fixed lists). */
export function ifAddr(cidr: string, iface: NetInterface): IfAddr {
  const [addr, bits] = cidr.split('/');
  if (addr.includes(':')) {
    const n = bits === undefined ? 128 : Number(bits);
    const v = parseIPv6Literal(addr);
    if (v === null) throw new Error(`not an IPv6 address: ${cidr}`);
    return { sa: ipv6(v, v6MaskFromBits(n)), iface };
  }
  const n = bits === undefined ? 32 : Number(bits);
  const v = addr.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  return { sa: ipv4(v, v4MaskFromBits(n)), iface };
}

export interface LinuxSourceOptions {
  /** Root of /sys and /proc (tests point it at a copy). Default `/`. */
  root?: string;
  /**
   * Report IFF_RUNNING as the `running` flag, as Go >= 1.20 does (and so consul-template's
   * releases). Go 1.19, which generated the fixtures, does not. Default true.
   */
  runningFlag?: boolean;
  /** Addresses per interface; default os.networkInterfaces(). */
  addresses?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

// Linux IFF_* bits and the net.Flags they become.
const IFF: Array<[number, number]> = [
  [0x1, FLAG_UP],
  [0x2, FLAG_BROADCAST],
  [0x8, FLAG_LOOPBACK],
  [0x10, FLAG_POINT_TO_POINT],
  [0x1000, FLAG_MULTICAST],
];

/**
 * The interface of the first IPv4 default route with a gateway in /proc/net/route: what
 * go-sockaddr takes from the first `default via GW dev IF` line of `ip route` (IPv4 only).
 */
export function defaultRouteInterface(routeTable: string): string {
  const lines = routeTable.split('\n').slice(1);
  for (const line of lines) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const flags = Number.parseInt(f[3], 16);
    if (f[1] === '00000000' && f[7] === '00000000' && (flags & 0x2) !== 0 && (flags & 0x1) !== 0) return f[0];
  }
  throw new Error(NO_DEFAULT);
}

/**
 * Without /sys (not Linux: `tend template` on a workstation), what Node says: every listed
 * interface is up and running (Node lists no other), loopback or broadcast|multicast; no MTU.
 */
function guess(name: string, pos: number, infos: NetworkInterfaceInfo[], running: boolean): NetInterface {
  const internal = infos.some((i) => i.internal);
  let flags = FLAG_UP | (internal ? FLAG_LOOPBACK : FLAG_BROADCAST | FLAG_MULTICAST);
  if (running) flags |= FLAG_RUNNING;
  const mac = (infos[0]?.mac ?? '').split(':').map((b) => Number.parseInt(b, 16));
  const hw = mac.length === 6 && mac.every((b) => b >= 0 && b <= 255) && mac.some((b) => b !== 0) ? mac : [];
  return { index: pos + 1, mtu: 0, name, hardwareAddr: hw, flags };
}

/** The host's interfaces on Linux, read afresh on every call. */
export function linuxInterfaces(opts: LinuxSourceOptions = {}): InterfaceSource {
  const root = (opts.root ?? '/').replace(/\/$/, '');
  const running = opts.runningFlag ?? true;
  const addresses = opts.addresses ?? networkInterfaces;
  const describe = (name: string, pos: number, infos: NetworkInterfaceInfo[]): NetInterface => {
    const sys = `${root}/sys/class/net/${name}`;
    const rawText = read(`${sys}/flags`);
    if (rawText === undefined) return guess(name, pos, infos, running);
    const raw = Number.parseInt(rawText, 16) || 0;
    let flags = 0;
    for (const [iff, f] of IFF) if ((raw & iff) !== 0) flags |= f;
    if (running && (raw & 0x1) !== 0) {
      // The kernel sets IFF_RUNNING for an up interface whose operational state is up or unknown.
      const oper = read(`${sys}/operstate`);
      if (oper === 'up' || oper === 'unknown') flags |= FLAG_RUNNING;
    }
    const mac = (read(`${sys}/address`) ?? '').split(':');
    let hw = mac.every((b) => /^[0-9a-f]{2}$/i.test(b)) ? mac.map((b) => Number.parseInt(b, 16)) : [];
    // Go reports no hardware address when the kernel's is all zeros (loopback), nor the IPv4 or
    // IPv6 address an IP tunnel (ipip, sit, gre, ip6tnl, ip6gre) shows in its place.
    if (hw.every((b) => b === 0)) hw = [];
    const type = Number(read(`${sys}/type`) ?? 0);
    if (hw.length === 4 && [768, 776, 778].includes(type)) hw = [];
    if (hw.length === 16 && [769, 823].includes(type)) hw = [];
    return {
      index: Number(read(`${sys}/ifindex`) ?? 0),
      mtu: Number(read(`${sys}/mtu`) ?? 0),
      name,
      hardwareAddr: hw,
      flags,
    };
  };
  return {
    interfaces: () => {
      const all = addresses();
      const ifs = Object.keys(all).map((name, pos) => ({ name, info: describe(name, pos, all[name] ?? []) }));
      ifs.sort((a, b) => a.info.index - b.info.index);
      const out: IfAddr[] = [];
      for (const { name, info } of ifs) {
        const list = all[name] ?? [];
        // Go lists an interface's IPv4 addresses before its IPv6 ones (the kernel's dump order).
        for (const fam of ['IPv4', 'IPv6']) {
          for (const a of list) {
            if (a.family !== fam || a.cidr === null) continue;
            out.push(ifAddr(a.cidr, info));
          }
        }
      }
      return out;
    },
    defaultInterfaceName: () => {
      const table = read(`${root}/proc/net/route`);
      if (table === undefined) throw new Error(NO_DEFAULT);
      return defaultRouteInterface(table);
    },
  };
}
