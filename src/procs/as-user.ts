/**
 * Running a child as another user, with that user's supplementary groups.
 *
 * Node's child_process takes `uid` and `gid` but calls setgroups(0) before switching: the child loses every
 * supplementary group (a service in `docker` or `ssl-cert` could no longer reach the socket or key it is in the
 * group for), and posix_spawn cannot switch users at all. util-linux's `setpriv` (in every Debian, Ubuntu,
 * Fedora and Alpine's util-linux package) sets the groups, the gid and the uid (real, effective and saved, so
 * the child cannot get root back) and then execs the command: the pid tend spawned IS the service, signals and
 * the process group work as before, and the spawn can stay a posix_spawn (the fast path). Where setpriv is
 * missing, the child gets uid and gid through child_process (no supplementary groups) and tend warns once.
 *
 * A `user:` that is tend's own needs no switch. A tend that is not root cannot switch (the app refuses such a
 * manifest at start); should a child still come this way, setpriv fails and says why rather than the child
 * running as tend's user.
 */
import { accessSync, constants } from 'node:fs';

/** Who a child runs as: the resolved form of a service's `user:` (the manifest's RunAs has these fields). */
export interface UserIds {
  uid: number;
  gid: number;
  /** supplementary groups; empty: none */
  groups: readonly number[];
}

/** How to start `file args` as a user: another argv (through setpriv), or uid/gid for child_process. */
export interface UserLaunch {
  file: string;
  args: string[];
  /** set only on the fallback without setpriv: child_process switches (losing supplementary groups) */
  uid?: number;
  gid?: number;
}

const SETPRIV_PLACES = ['/usr/bin/setpriv', '/bin/setpriv', '/usr/sbin/setpriv', '/sbin/setpriv'];
let setprivPath: string | null | undefined;
let warned = false;

/** Where setpriv is, or null (looked up once; `TEND_SETPRIV=` with an empty value forces the fallback). */
export function findSetpriv(env: NodeJS.ProcessEnv = process.env): string | null {
  if (setprivPath !== undefined) return setprivPath;
  const forced = env.TEND_SETPRIV;
  const places = forced !== undefined ? (forced === '' ? [] : [forced]) : SETPRIV_PLACES;
  setprivPath = null;
  for (const p of places) {
    try {
      accessSync(p, constants.X_OK);
      setprivPath = p;
      break;
    } catch {}
  }
  return setprivPath;
}

/**
 * Whether starting a child as `user` needs a switch at all: its ids differ from tend's. A tend that is not root
 * still "switches" (setpriv then fails and says why): a child never runs as tend's user instead of its own.
 */
export function needsSwitch(user: UserIds | undefined): user is UserIds {
  if (!user) return false;
  return user.uid !== (process.geteuid?.() ?? 0) || user.gid !== (process.getegid?.() ?? 0);
}

/**
 * The argv (or ids) that starts `file args` as `user`; `file args` unchanged when no switch is needed.
 * `warn` hears, once per tend, that supplementary groups are lost for want of setpriv.
 */
export function launchAs(
  file: string,
  args: readonly string[],
  user: UserIds | undefined,
  warn: (text: string) => void = (t) => process.stderr.write(`tend: warning: ${t}\n`),
): UserLaunch {
  if (!needsSwitch(user)) return { file, args: [...args] };
  const setpriv = findSetpriv();
  if (setpriv) {
    const groups = user.groups.length > 0 ? [`--groups=${user.groups.join(',')}`] : ['--clear-groups'];
    return {
      file: setpriv,
      args: [`--reuid=${user.uid}`, `--regid=${user.gid}`, ...groups, '--', file, ...args],
    };
  }
  if (!warned) {
    warned = true;
    warn(
      "setpriv (util-linux) was not found: services with user: run with the user's uid and gid but without its " +
        'supplementary groups; install util-linux to keep them',
    );
  }
  return { file, args: [...args], uid: user.uid, gid: user.gid };
}

/** For tests: forget the looked-up setpriv and the warning. */
export function resetSetprivLookup(): void {
  setprivPath = undefined;
  warned = false;
}
