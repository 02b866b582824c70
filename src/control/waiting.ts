/**
 * What a service waits for, in one line, for the live start-up table and `tend status`: the stage running
 * before it starts, its closed gates (missing keys, required services, `after`), or its readiness probe with
 * the probe's last answer and the time spent against the timeout (`waiting for tcp 127.0.0.1:5999
 * (ECONNREFUSED) 3s/60s`).
 */
import type { AppState } from '../events/index.js';
import type { Probe, ServicePlan } from '../manifest/types.js';
import type { HealthSummary } from '../runtime/index.js';
import { type Gate, type ServiceStatus, waitingFor } from '../supervisor/index.js';
import { formatDuration as exactDuration } from '../time/index.js';
import { formatDuration } from './format.js';

/** The stage that runs before the services start, by app state. */
const STAGE_OF: Partial<Record<AppState, string>> = {
  BOOT: 'boot',
  FIRSTBOOT: 'firstboot',
  UPGRADING: 'upgrade',
};

/** Not started yet because a start-up stage runs first: that stage's name. */
export function stageBefore(app: AppState, s: Pick<ServiceStatus, 'state' | 'desired'>): string | undefined {
  const stage = STAGE_OF[app];
  return stage !== undefined && s.state === 'stopped' && s.desired === 'down' ? stage : undefined;
}

export function probeText(p: Probe): string {
  switch (p.kind) {
    case 'http':
      return `http ${p.url}`;
    case 'tcp':
      return `tcp ${p.host.includes(':') ? `[${p.host}]` : p.host}:${p.port}`;
    case 'exec':
      return `exec ${p.command.kind === 'shell' ? p.command.script : p.command.argv.join(' ')}`.slice(0, 60);
    case 'log':
      return `log /${p.pattern}/`;
    default: {
      const never: never = p;
      return String(never);
    }
  }
}

/** A probe's answer, short: the errno code where there is one (`ECONNREFUSED`), else its first words. */
export function shortAnswer(output: string): string {
  const code = /\bE[A-Z]{3,}\b/.exec(output);
  if (code) return code[0];
  const flat = output.replace(/\s+/g, ' ').trim();
  return flat.length > 40 ? `${flat.slice(0, 39)}…` : flat;
}

/** Its readiness probe, while the process runs and is not ready yet. */
export function readinessWait(
  plan: Pick<ServicePlan, 'ready'>,
  s: Pick<ServiceStatus, 'state' | 'ready' | 'startedAt'>,
  last: HealthSummary | undefined,
  now: number,
): string | undefined {
  if (!plan.ready || s.ready || s.state !== 'running' || s.startedAt === undefined) return undefined;
  // an answer about an earlier process says nothing about this one
  const answer =
    last && last.check === 'ready' && !last.ok && Date.parse(last.time) >= s.startedAt && last.output
      ? ` (${shortAnswer(last.output)})`
      : '';
  const elapsed = formatDuration(Math.max(0, now - s.startedAt));
  return `waiting for ${probeText(plan.ready.probe)}${answer} ${elapsed}/${exactDuration(plan.ready.timeoutMs)}`;
}

/** Everything the service waits for, in one line, or undefined when it waits for nothing. */
export function whatItWaitsFor(
  app: AppState,
  plan: Pick<ServicePlan, 'ready'>,
  s: ServiceStatus,
  gates: readonly Gate[],
  last: HealthSummary | undefined,
  now = Date.now(),
): string | undefined {
  const stage = stageBefore(app, s);
  if (stage) return `starts after the ${stage} stage`;
  const waits = waitingFor(s, gates);
  if (waits.length > 0) return waits.map((w) => w.reason).join('; ');
  return readinessWait(plan, s, last, now);
}
