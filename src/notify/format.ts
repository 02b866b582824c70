import type { TendEvent } from '../events/index.js';
import { formatDuration } from '../time/index.js';

/**
 * What webhook, file, kv and exec sinks carry: the event plus which app and host it is about, since a
 * central receiver hears from a whole fleet.
 */
export function payload(event: TendEvent, app: string, host: string): string {
  return JSON.stringify({ app, host, ...event });
}

/** whaleware's `lifecycle STATE`: the new state for transitions, the kind name for everything else. */
export function stateOf(event: TendEvent): string {
  return event.kind === 'app' || event.kind === 'service' ? event.to : event.kind;
}

export function serviceOf(event: TendEvent): string | undefined {
  return 'service' in event && typeof event.service === 'string' ? event.service : undefined;
}

/** Reasons and outputs come from scripts: one line, bounded, whatever they printed. */
function oneLine(text: string, max = 160): string {
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function details(parts: Array<string | false | undefined>): string {
  const kept = parts.filter((p): p is string => typeof p === 'string' && p !== '');
  return kept.length > 0 ? ` (${kept.join(', ')})` : '';
}

function exitPart(code: number | null | undefined, signal: string | null | undefined) {
  if (signal) return `signal ${signal}`;
  if (code !== undefined && code !== null) return `exit ${code}`;
  return undefined;
}

function flatStats(stats: unknown): string {
  if (stats === null || typeof stats !== 'object' || Array.isArray(stats)) return oneLine(String(stats), 200);
  const parts = Object.entries(stats as Record<string, unknown>).map(([k, v]) => {
    const s = v !== null && typeof v === 'object' ? '…' : String(v);
    return `${k}=${s}`;
  });
  return oneLine(parts.join(' '), 200);
}

/** One readable line per event for docker logs: `[tend] web: starting → running (pid 123)`. */
export function humanLine(event: TendEvent): string {
  const tail = (reason?: string) => (reason ? `: ${oneLine(reason)}` : '');
  switch (event.kind) {
    case 'app': {
      const move = event.from ? `${event.from} → ${event.to}` : event.to;
      return `[tend] app: ${move}${tail(event.reason)}${event.output ? ` — ${oneLine(event.output)}` : ''}`;
    }
    case 'service': {
      const move = event.from ? `${event.from} → ${event.to}` : event.to;
      const extra = details([
        event.pid !== undefined && event.to !== 'exited' && event.to !== 'stopped' && `pid ${event.pid}`,
        exitPart(event.exitCode, event.signal),
        event.restarts > 0 && `restarts ${event.restarts}`,
      ]);
      return `[tend] ${event.service}: ${move}${extra}${tail(event.reason)}`;
    }
    case 'stats':
      return `[tend] stats: ${flatStats(event.stats)}`;
    case 'maintenance': {
      const what = `maintenance ${event.on ? 'on' : 'off'}`;
      return `[tend] app: ${what}${event.reason === what ? '' : tail(event.reason)}`;
    }
    case 'config': {
      const who = event.service ?? 'app';
      const what = event.action === 'settings' ? 'settings changed' : `config ${event.action}`;
      const where = event.destination ? ` ${event.destination}` : '';
      const missing = event.missing?.length ? ` (missing: ${oneLine(event.missing.join(', '))})` : '';
      return `[tend] ${who}: ${what}${where}${missing}${tail(event.reason)}`;
    }
    case 'job': {
      const extra = details([
        event.pid !== undefined && event.run === 'started' && `pid ${event.pid}`,
        exitPart(event.exitCode, event.signal),
        event.durationMs !== undefined && formatDuration(event.durationMs),
      ]);
      return `[tend] ${event.service}: job ${event.run}${extra}`;
    }
    case 'health': {
      const what = `${event.check} check ${event.ok ? 'ok' : 'failed'}`;
      return `[tend] ${event.service}: ${what}${event.output ? `: ${oneLine(event.output)}` : ''}`;
    }
    case 'finish': {
      const extra = details([exitPart(event.exitCode, null)]);
      const out = event.output ? `: ${oneLine(event.output)}` : '';
      return `[tend] ${event.service}: finish ${event.ok ? 'ok' : 'failed'}${extra}${out}`;
    }
    default:
      return `[tend] ${(event as { kind: string }).kind}`;
  }
}
