import type { TendEvent } from './types.js';

/** tend's one-line text of an event (`tend | web running (pid 42)`), or undefined for events it keeps quiet. */
export function describeEvent(e: TendEvent): string | undefined {
  switch (e.kind) {
    case 'service': {
      let text = `${e.service} ${e.to}`;
      if (e.pid && e.to === 'running') text += ` (pid ${e.pid})`;
      if (e.reason) text += `: ${e.reason}`;
      return text;
    }
    case 'app':
      return `app ${e.to}${e.reason ? `: ${e.reason}` : ''}`;
    case 'job':
      return `${e.service} job ${e.run}${e.exitCode !== undefined && e.exitCode !== null ? ` (exit ${e.exitCode})` : ''}`;
    case 'config':
      switch (e.action) {
        case 'unchanged':
          return undefined;
        // the reason starts "template error in FILE:LINE": said as such, with the service, not as a key problem
        case 'template-error':
          return `${e.service ? `${e.service}: ` : ''}${e.reason ?? 'template error'}`;
        case 'rollout':
          return `${e.service ? `${e.service}: ` : ''}rollout ${e.outcome ?? ''}${e.reason ? `: ${e.reason}` : ''}`;
        case 'rendered':
        case 'missing':
        case 'check-failed':
        case 'error':
        case 'settings':
        case 'resync':
          return `config ${e.action}${e.destination ? ` ${e.destination}` : ''}${e.reason ? `: ${e.reason}` : ''}`;
        default: {
          const never: never = e.action;
          return `config ${String(never)}`;
        }
      }
    case 'finish':
      return e.ok ? undefined : `${e.service} finish hook failed${e.output ? `: ${e.output}` : ''}`;
    default:
      return undefined;
  }
}

/** A service event that reports a crash and the restart it brings (now, or after a backoff delay). */
function crashOf(e: TendEvent): { how: string; why?: string; delay?: string } | undefined {
  if (e.kind !== 'service' || (e.to !== 'backoff' && e.to !== 'starting')) return undefined;
  if (e.signal == null && (e.exitCode === undefined || e.exitCode === null)) return undefined;
  const how = e.signal ? `killed by ${e.signal}` : `exited ${e.exitCode}`;
  // the machine's reason: `<why>; restarting in <delay>` (backoff) or `restarted after <why>` (at once)
  let why = e.reason ?? '';
  let delay: string | undefined;
  const at = why.lastIndexOf('; restarting in ');
  if (at >= 0) {
    delay = why.slice(at + '; restarting in '.length);
    why = why.slice(0, at);
  }
  if (why.startsWith('restarted after ')) why = why.slice('restarted after '.length);
  const plain = why === '' || why === `exit code ${e.exitCode}` || why === `killed by ${e.signal}`;
  return { how, why: plain ? undefined : why, delay };
}

/**
 * tend's console, one line per thing that happened: `describeEvent`, except that a crash and the restart it
 * brings are told in one line (`worker exited 1 · restart 3 in 350ms`) instead of one line per state the
 * service passes (backoff, starting, running) each repeating the reason. The events themselves are unchanged;
 * only their text is grouped, so the state remembers, per service, the restart it has already told.
 */
export function createConsoleLines(): (e: TendEvent) => string | undefined {
  /** per service: the reason of the crash line told, which the next starting/running events repeat */
  const told = new Map<string, string | undefined>();
  return (e) => {
    if (e.kind !== 'service') return describeEvent(e);
    const crash = crashOf(e);
    if (crash) {
      told.set(e.service, e.reason);
      const restart = `restart ${e.restarts + 1}${crash.delay ? ` in ${crash.delay}` : ' now'}`;
      return `${e.service} ${crash.how}${crash.why ? ` (${crash.why})` : ''} · ${restart}`;
    }
    if (told.has(e.service)) {
      const reason = told.get(e.service);
      if ((e.to === 'starting' || e.to === 'running') && e.reason === reason) {
        // the restart announced: its pid is in `tend status`, its next crash or readiness gets a line
        if (e.to === 'running') told.delete(e.service);
        return undefined;
      }
      told.delete(e.service);
    }
    return describeEvent(e);
  };
}
