/**
 * consul-template's `sockaddr` function: go-sockaddr's template language over the host's
 * interfaces (docs/templates-sockaddr.md).
 *
 * - sockaddrFunc(source?) → the FuncSpec registered as `sockaddr`.
 * - parseSockaddr(input, source) / parseIfAddrs(input, source, addrs): go-sockaddr's
 *   template.Parse and ParseIfAddrs.
 * - linuxInterfaces(opts?) reads this host; fixedInterfaces(list, default?) and ifAddr(cidr, iface)
 *   build a fixed one (tests).
 */
export { ipv4, ipv6, newIPAddr, sockAddrString } from './addr.js';
export {
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
export {
  defaultRouteInterface,
  fixedInterfaces,
  ifAddr,
  type LinuxSourceOptions,
  linuxInterfaces,
} from './interfaces.js';
export { parseIfAddrs, parseSockaddr, sockaddrFunc, sockaddrFuncs } from './template.js';
