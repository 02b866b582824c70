import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import { dirname } from 'node:path';
import { makeDirSync } from '../fsx/index.js';

/**
 * Listening sockets tend holds for a service (socket activation, as systemd's .socket units): bound and
 * listening once, never accepted on by tend, handed to each start of the service as fds 3, 4, …
 *
 * Why raw sockets through koffi rather than net.Server: a Node server polls its socket and accepts every
 * connection itself; these must only be queued by the kernel until the service accepts them. Each fd is
 * close-on-exec, so no other child (probes, hooks, other services) inherits it; the spawn path dup2()s it
 * into place for the one service it belongs to. And each fd is moved to 100 or above, so that the child's
 * dup2(fd, 3 + i) never overwrites a socket still to be placed (nor meets fd == 3 + i, where dup2 would keep
 * close-on-exec set).
 */

export type SocketTarget =
  | { kind: 'tcp'; host: string; port: number; family: 4 | 6 }
  | { kind: 'unix'; path: string };

export interface SocketSpec {
  /** as the user wrote it, normalised: shown in errors */
  address: string;
  bind: SocketTarget;
  backlog: number;
  mode?: number;
}

export interface HeldSocket {
  readonly fd: number;
  readonly address: string;
  /** listen() again with another backlog, chmod a Unix socket again: a reload that changed only those */
  update(spec: SocketSpec): void;
  /** closes the fd and removes a Unix socket file that is still ours */
  close(): void;
}

/** A socket could not be bound; the message names the address and what to do. */
export class SocketError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SocketError';
  }
}

/** the lowest fd a held socket gets (see above); a service may list fewer than 100 - 3 sockets */
export const HELD_FD_MIN = 100;
export const MAX_SOCKETS_PER_SERVICE = HELD_FD_MIN - 3;

interface SockLib {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  listen(fd: number, backlog: number): number;
  fcntl(fd: number, cmd: number, arg: number): number;
  inetPton(af: number, src: string, dst: Buffer): number;
  getsockname(fd: number, addr: Buffer, len: number[]): number;
  close(fd: number): number;
  errno(): number;
}

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const F_DUPFD_CLOEXEC = 1030;

let lib: SockLib | { error: string } | undefined;

function load(): SockLib | { error: string } {
  if (lib) return lib;
  if (process.platform !== 'linux') {
    lib = { error: `listen: is Linux-only (platform is ${process.platform})` };
    return lib;
  }
  try {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi') as typeof import('koffi');
    const c = koffi.load(null);
    const fcntl = c.func('int fcntl(int fd, int cmd, ...)');
    lib = {
      socket: c.func('int socket(int domain, int type, int protocol)'),
      setsockopt: c.func('int setsockopt(int fd, int level, int name, void *value, unsigned int len)'),
      bind: c.func('int bind(int fd, void *addr, unsigned int len)'),
      listen: c.func('int listen(int fd, int backlog)'),
      fcntl: (fd: number, cmd: number, arg: number) => fcntl(fd, cmd, 'int', arg) as number,
      inetPton: c.func('int inet_pton(int af, const char *src, void *dst)'),
      getsockname: c.func('int getsockname(int fd, void *addr, _Inout_ unsigned int *len)'),
      close: c.func('int close(int fd)'),
      errno: () => koffi.errno(),
    } as SockLib;
  } catch (err) {
    lib = { error: `listen: needs koffi for socket calls: ${(err as Error).message}` };
  }
  return lib;
}

const ERRNO_NAMES = new Map<number, string>(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

function advice(code: string, spec: SocketSpec): string {
  switch (code) {
    case 'EADDRINUSE':
      return spec.bind.kind === 'unix'
        ? 'another socket is bound there'
        : 'another process listens there: stop it, or choose another port';
    case 'EACCES':
    case 'EPERM':
      return spec.bind.kind === 'tcp' && spec.bind.port < 1024
        ? 'ports below 1024 need root or CAP_NET_BIND_SERVICE'
        : 'permission denied: check the folder and its permissions';
    case 'EADDRNOTAVAIL':
      return 'no interface of this host has that address: use one it has, or 0.0.0.0 / [::]';
    case 'EAFNOSUPPORT':
      return 'this host has no IPv6: use an IPv4 address';
    default:
      return 'check the address';
  }
}

function sockaddr(c: SockLib, t: SocketTarget): { domain: number; addr: Buffer } {
  if (t.kind === 'unix') {
    const addr = Buffer.alloc(2 + 108);
    addr.writeUInt16LE(AF_UNIX, 0);
    const path = Buffer.from(t.path);
    // `@name`: the abstract namespace, whose sun_path starts with a NUL and is exactly as long as the name
    if (t.path.startsWith('@')) path[0] = 0;
    path.copy(addr, 2);
    return { domain: AF_UNIX, addr: t.path.startsWith('@') ? addr.subarray(0, 2 + path.length) : addr };
  }
  if (t.family === 4) {
    const addr = Buffer.alloc(16);
    addr.writeUInt16LE(AF_INET, 0);
    addr.writeUInt16BE(t.port, 2);
    c.inetPton(AF_INET, t.host, addr.subarray(4, 8));
    return { domain: AF_INET, addr };
  }
  const addr = Buffer.alloc(28);
  addr.writeUInt16LE(AF_INET6, 0);
  addr.writeUInt16BE(t.port, 2);
  c.inetPton(AF_INET6, t.host, addr.subarray(8, 24));
  return { domain: AF_INET6, addr };
}

/**
 * Sockets tend itself inherited (a systemd .socket unit from `tend export systemd`, or any manager speaking
 * sd_listen_fds): taken once, moved to close-on-exec fds 100 and above, and the variables removed so that no
 * child mistakes them for its own. A service's `listen:` address then takes the inherited socket bound there
 * instead of binding again: the sockets outlive tend itself (`systemctl restart`).
 */
let inherited: Array<{ fd: number; addr: Buffer }> | undefined;

function adoptInherited(c: SockLib): Array<{ fd: number; addr: Buffer }> {
  if (inherited) return inherited;
  inherited = [];
  const env = process.env;
  const count = Number(env.LISTEN_FDS);
  const mine = env.LISTEN_PID === String(process.pid);
  if (env.LISTEN_FDS !== undefined) {
    delete env.LISTEN_FDS;
    delete env.LISTEN_PID;
    delete env.LISTEN_FDNAMES;
  }
  if (!mine || !Number.isInteger(count) || count <= 0) return inherited;
  for (let fd = 3; fd < 3 + count; fd++) {
    const high = c.fcntl(fd, F_DUPFD_CLOEXEC, HELD_FD_MIN);
    if (high < 0) continue;
    c.close(fd);
    const addr = Buffer.alloc(128);
    const len = [addr.length];
    if (c.getsockname(high, addr, len) !== 0) {
      c.close(high);
      continue;
    }
    inherited.push({ fd: high, addr: addr.subarray(0, len[0]) });
  }
  return inherited;
}

/**
 * Takes the sockets tend inherited, if any, even when no service lists their address: they become close-on-exec
 * and the LISTEN_ variables leave tend's environment, so that no child inherits either. Cheap when there are none.
 */
export function adoptInheritedSockets(): void {
  if (inherited || process.env.LISTEN_FDS === undefined) return;
  const c = load();
  if (!('error' in c)) adoptInherited(c);
}

/** getsockname() of an inherited socket against the sockaddr tend would bind (a path up to its NUL) */
function sameAddress(got: Buffer, want: Buffer): boolean {
  if (got.readUInt16LE(0) !== want.readUInt16LE(0)) return false;
  if (got.readUInt16LE(0) !== AF_UNIX)
    return got.equals(want.subarray(0, got.length)) && got.length === want.length;
  const path = (b: Buffer) => {
    const p = b.subarray(2);
    if (p[0] === 0) return p; // abstract: every byte counts
    const end = p.indexOf(0);
    return end < 0 ? p : p.subarray(0, end);
  };
  return path(got).equals(path(want));
}

/** Binds and listens (or takes the inherited socket bound there); throws a SocketError naming the address. */
export function bindSocket(spec: SocketSpec, owner: string): HeldSocket {
  const c = load();
  const where = `cannot listen on ${spec.address} for service "${owner}"`;
  if ('error' in c) throw new SocketError(`${where}: ${c.error}`);
  const pool = adoptInherited(c);
  const wanted = sockaddr(c, spec.bind).addr;
  const at = pool.findIndex((p) => sameAddress(p.addr, wanted));
  if (at >= 0) {
    const [{ fd }] = pool.splice(at, 1);
    return heldSocket(c, fd, spec, undefined);
  }
  const failure = (step: string, errno = c.errno()) => {
    const code = ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
    return new SocketError(`${where}: ${step} failed with ${code}: ${advice(code, spec)}`);
  };
  const t = spec.bind;
  const { domain, addr } = sockaddr(c, t);
  let unixFile: { path: string; ino: number } | undefined;
  if (t.kind === 'unix' && !t.path.startsWith('@')) {
    makeDirSync(dirname(t.path));
    // a socket file left by a previous run refuses bind(); a file of another kind is not ours to delete
    const old = statOrUndefined(t.path);
    if (old && !old.isSocket()) {
      throw new SocketError(
        `${where}: ${t.path} exists and is not a socket; move it away or choose another path`,
      );
    }
    if (old) unlinkSync(t.path);
  }
  let fd = c.socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw failure('socket()');
  try {
    if (t.kind === 'tcp') {
      // a restart of tend itself must not wait for the old connections' TIME_WAIT to end
      const one = Buffer.alloc(4);
      one.writeInt32LE(1, 0);
      if (c.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one, 4) !== 0) throw failure('setsockopt(SO_REUSEADDR)');
    }
    if (c.bind(fd, addr, addr.length) !== 0) throw failure('bind()');
    if (t.kind === 'unix' && !t.path.startsWith('@')) {
      // before listen(): nobody can connect until then, so no client ever meets the umask's mode
      if (spec.mode !== undefined) chmodSync(t.path, spec.mode);
      unixFile = { path: t.path, ino: lstatSync(t.path).ino };
    }
    if (c.listen(fd, spec.backlog) !== 0) throw failure('listen()');
    const high = c.fcntl(fd, F_DUPFD_CLOEXEC, HELD_FD_MIN);
    if (high < 0)
      throw failure(`moving the socket to fd ${HELD_FD_MIN} or above (raise the open files limit)`);
    c.close(fd);
    fd = high;
  } catch (err) {
    c.close(fd);
    if (unixFile) removeIfOurs(unixFile);
    throw err;
  }
  return heldSocket(c, fd, spec, unixFile);
}

function heldSocket(
  c: SockLib,
  heldFd: number,
  first: SocketSpec,
  unixFile: { path: string; ino: number } | undefined,
): HeldSocket {
  let spec = first;
  let open = true;
  return {
    fd: heldFd,
    address: spec.address,
    update(next) {
      if (!open) return;
      if (next.backlog !== spec.backlog) c.listen(heldFd, next.backlog);
      if (unixFile && next.mode !== undefined && next.mode !== spec.mode) {
        chmodSync(unixFile.path, next.mode);
      }
      spec = next;
    },
    close() {
      if (!open) return;
      open = false;
      c.close(heldFd);
      if (unixFile) removeIfOurs(unixFile);
    },
  };
}

function statOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** Removes the socket file unless something else has been bound at that path since. */
function removeIfOurs(file: { path: string; ino: number }): void {
  const st = statOrUndefined(file.path);
  if (st?.isSocket() && st.ino === file.ino) {
    try {
      unlinkSync(file.path);
    } catch {}
  }
}
