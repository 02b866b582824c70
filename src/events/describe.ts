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
      return e.action === 'unchanged'
        ? undefined
        : `config ${e.action}${e.destination ? ` ${e.destination}` : ''}${e.reason ? `: ${e.reason}` : ''}`;
    case 'finish':
      return e.ok ? undefined : `${e.service} finish hook failed${e.output ? `: ${e.output}` : ''}`;
    default:
      return undefined;
  }
}
