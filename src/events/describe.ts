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
