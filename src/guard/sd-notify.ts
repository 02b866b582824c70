import { createRequire } from 'node:module';
import { endianness } from 'node:os';

/**
 * The client side of systemd's notify protocol (sd_notify(3)): one datagram of `KEY=VALUE` lines to the
 * unix socket named by $NOTIFY_SOCKET. Node has no unix datagram sockets, so the three libc calls go through
 * koffi, as src/procs does for prctl and waitpid; loaded only when $NOTIFY_SOCKET is set.
 *
 * Each message is sent from this process itself (never from a helper like systemd-notify): with the unit's
 * default NotifyAccess=main, systemd only listens to the main pid, which is tend.
 */
export interface SdNotifier {
  /** sends `KEY=VALUE\n…`; false (once reported through onError) when it could not be delivered */
  send(message: string): boolean;
  close(): void;
}

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
// A vanished listener must not kill tend with SIGPIPE.
const MSG_NOSIGNAL = 0x4000;
const SUN_PATH_MAX = 108;

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  sendto(fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, addrlen: number): number;
  close(fd: number): number;
  errno(): number;
}

let cached: { libc: Libc } | { error: string } | undefined;

function loadLibc(): { libc: Libc } | { error: string } {
  if (cached) return cached;
  if (process.platform !== 'linux') {
    cached = { error: `sd_notify is Linux-only (platform is ${process.platform})` };
    return cached;
  }
  try {
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const lib = koffi.load(null);
    cached = {
      libc: {
        socket: lib.func('int socket(int, int, int)'),
        sendto: lib.func('intptr_t sendto(int, const void *, size_t, int, const void *, uint32_t)'),
        close: lib.func('int close(int)'),
        errno: () => koffi.errno(),
      },
    };
  } catch (err) {
    cached = { error: `cannot load koffi for sd_notify: ${(err as Error).message}` };
  }
  return cached;
}

/**
 * struct sockaddr_un for $NOTIFY_SOCKET: a file-system path, or `@name` for Linux's abstract namespace
 * (the leading NUL byte, and no trailing one: every byte of an abstract name counts).
 */
export function socketAddress(path: string): { addr: Buffer; length: number } | { error: string } {
  const abstract = path.startsWith('@');
  if (!abstract && !path.startsWith('/')) {
    return {
      error: `NOTIFY_SOCKET=${path} is neither an absolute path nor @abstract (vsock is not supported)`,
    };
  }
  const name = Buffer.from(abstract ? `\0${path.slice(1)}` : path);
  const length = 2 + name.length + (abstract ? 0 : 1);
  if (name.length + (abstract ? 0 : 1) > SUN_PATH_MAX) {
    return { error: `NOTIFY_SOCKET=${path} is longer than a unix socket address allows` };
  }
  const addr = Buffer.alloc(2 + SUN_PATH_MAX);
  if (endianness() === 'LE') addr.writeUInt16LE(AF_UNIX, 0);
  else addr.writeUInt16BE(AF_UNIX, 0);
  name.copy(addr, 2);
  return { addr, length };
}

/**
 * A notifier for $NOTIFY_SOCKET, or undefined when it is not set (not started by systemd with Type=notify).
 * Problems (no koffi, a bad address, a refused datagram) go to onError once each, and never throw: systemd
 * then times the unit out, which is the right outcome for a unit that cannot say it is ready.
 */
export function openSdNotify(
  socketPath: string | undefined,
  onError: (message: string) => void,
): SdNotifier | undefined {
  if (!socketPath) return undefined;
  const reported = new Set<string>();
  const report = (message: string) => {
    if (reported.has(message)) return;
    reported.add(message);
    onError(message);
  };
  const address = socketAddress(socketPath);
  const loaded = loadLibc();
  if ('error' in address || 'error' in loaded) {
    const why = 'error' in address ? address.error : (loaded as { error: string }).error;
    report(`cannot notify systemd: ${why}; a Type=notify unit will time out starting`);
    return { send: () => false, close() {} };
  }
  const { libc } = loaded;
  let fd = -1;
  return {
    send(message) {
      if (fd < 0) {
        fd = libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
          report(`cannot notify systemd: socket() failed with errno ${libc.errno()}`);
          return false;
        }
      }
      const buf = Buffer.from(message);
      const sent = libc.sendto(fd, buf, buf.length, MSG_NOSIGNAL, address.addr, address.length);
      if (sent < 0) {
        report(`cannot notify systemd at ${socketPath}: sendto() failed with errno ${libc.errno()}`);
        return false;
      }
      return true;
    },
    close() {
      if (fd >= 0) libc.close(fd);
      fd = -1;
    },
  };
}

/**
 * The variables systemd gives its main process only; services must not inherit them. The LISTEN_ ones describe
 * sockets of a .socket unit, which tend takes and hands on by address (`listen:`, src/procs/sockets.ts).
 */
export const SYSTEMD_NOTIFY_VARS = [
  'NOTIFY_SOCKET',
  'WATCHDOG_USEC',
  'WATCHDOG_PID',
  'LISTEN_FDS',
  'LISTEN_PID',
  'LISTEN_FDNAMES',
] as const;

/** Watchdog period requested by the unit (WatchdogSec=), if it is meant for this process. */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid = process.pid): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined;
  // sd_watchdog_enabled(3): ping at half the interval.
  return Math.max(1, Math.floor(usec / 2000));
}
