import { loadLibc, PR_SET_CHILD_SUBREAPER } from './native.js';

/**
 * Makes this process a child subreaper: orphaned descendants (a service's double-forked daemon whose parent
 * exited) are reparented to us instead of to the machine's init, so tend can still see, reap and stop them.
 * As PID 1 this is implied; elsewhere (tend under systemd, in a shell) it is what keeps descendants ours.
 * Pair it with startReaper, or orphans become zombies here.
 */
export function becomeSubreaper(): { ok: boolean; warning?: string } {
  const loaded = loadLibc();
  if ('error' in loaded) return { ok: false, warning: `cannot become a child subreaper: ${loaded.error}` };
  const { libc } = loaded;
  if (libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) !== 0) {
    return {
      ok: false,
      warning: `cannot become a child subreaper: prctl(PR_SET_CHILD_SUBREAPER) failed with errno ${libc.errno()}`,
    };
  }
  return { ok: true };
}
