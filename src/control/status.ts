/** The status view: what `tend status`, `/api/status` and the dashboard show, built from the live stack. */
import { isAbsolute, relative } from 'node:path';
import { colourOf } from '../logs/index.js';
import type { ServicePlan } from '../manifest/types.js';
import { type ControlState, type Runtime, VERSION } from '../runtime/index.js';
import { describeNotReady, isReady, type ServiceStatus } from '../supervisor/index.js';
import { countingDown, samplesOf } from './samples.js';
import type { HealthSummary, NotifySinkView, ServiceView, StatusView, TemplateView } from './types.js';
import { whatItWaitsFor } from './waiting.js';

/**
 * The last check result, if it says something about the process there is now: one of an earlier process
 * (a restarted service not ready yet) is stale and left out; with no process, only a failure is kept (why it
 * went). Every process reports each of its checks at least once (health/checks.ts).
 */
function currentHealth(s: ServiceStatus, h: HealthSummary | undefined): HealthSummary | undefined {
  if (!h) return undefined;
  if (s.startedAt === undefined) return h.ok ? undefined : h;
  return Date.parse(h.time) >= s.startedAt ? h : undefined;
}

/**
 * `templates`: the render module's templates by service, when the caller builds views of many services (the
 * render status is built anew on each call: asking it once per service made a status O(services × templates)).
 */
export function serviceView(
  rt: Runtime,
  cs: ControlState,
  name: string,
  templates: Map<string, RenderedTemplate[]> = templatesByService(rt),
): ServiceView | undefined {
  const r = rt.stack.runner(name);
  if (!r) return undefined;
  const s = r.status();
  return {
    name: s.name,
    state: s.state,
    reason: s.reason,
    pid: s.pid,
    ready: s.ready,
    restarts: s.restarts,
    startedAt: s.startedAt,
    uptimeMs: s.uptimeMs,
    lastExit: s.lastExit,
    job: s.job,
    essential: r.plan.essential,
    waitingFor: rt.stack.gates(name).map((g) => g.reason),
    checks: { ready: r.plan.ready !== undefined, health: r.plan.health !== undefined },
    health: currentHealth(s, cs.health(name)),
    ...readingAids(rt, cs, r.plan, s, templates.get(name) ?? []),
  };
}

/**
 * What the reader is helped with beyond the stack's state: what it waits for, CPU and memory, a job's runs,
 * the countdown (its `reason` replaced by one counting down), its colour and templates.
 */
function readingAids(
  rt: Runtime,
  cs: ControlState,
  plan: ServicePlan,
  s: ServiceStatus,
  rendered: RenderedTemplate[],
): Partial<ServiceView> {
  // deadlines and probe times are wall-clock times (event stamps)
  const now = Date.now();
  const samples = samplesOf(rt);
  const retryAt = samples.backoffUntil(s.name);
  const order = positionOf(cs.plan.order, s.name);
  const templates = rendered.map((t) => templateView(rt, t));
  const answer = cs.probeAnswer?.(s.name) ?? cs.health(s.name);
  return {
    // "restarting in 350ms" as the machine said it then; shown counting down from when it said it
    reason: countingDown(s.reason, retryAt, now),
    waiting: whatItWaitsFor(rt.appState(), plan, s, rt.stack.gates(s.name), answer, now),
    // the last sample's, while a process runs (a crashed one's is history: the charts keep it)
    usage: s.pid !== undefined ? samples.usage(s.name) : undefined,
    runs: s.job ? (samples.job(s.name) ?? { runs: 0, running: false }) : undefined,
    retryAt: s.state === 'backoff' || s.state === 'failed' ? retryAt : undefined,
    colour: colourOf(order >= 0 ? order : cs.plan.order.length),
    templates: templates.length > 0 ? templates : undefined,
  };
}

// plan.order → each name's place in it: an indexOf per service made a status of n services O(n²) (5,000
// services: 12.5 million string comparisons per `tend status`)
const positions = new WeakMap<readonly string[], Map<string, number>>();

function positionOf(order: readonly string[], name: string): number {
  let index = positions.get(order);
  if (!index) {
    index = new Map(order.map((n, i) => [n, i]));
    positions.set(order, index);
  }
  return index.get(name) ?? -1;
}

/** A path under the app's folder, relative to it (what the manifest says); any other, absolute. */
function shown(base: string, path: string): string {
  const rel = relative(base, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

type RenderedTemplate = NonNullable<ReturnType<Runtime['renderStatus']>>['templates'][number];

function templatesByService(rt: Runtime): Map<string, RenderedTemplate[]> {
  const out = new Map<string, RenderedTemplate[]>();
  for (const t of rt.renderStatus()?.templates ?? []) {
    const list = out.get(t.service);
    if (list) list.push(t);
    else out.set(t.service, [t]);
  }
  return out;
}

function templateView(rt: Runtime, t: RenderedTemplate): TemplateView {
  return {
    source: shown(rt.plan.dir, t.source),
    destination: shown(rt.plan.dir, t.destination),
    state: t.state,
    reason: t.reason,
    missing: t.missing,
    renderedAt: t.renderedAt,
    keys: t.keys,
  };
}

/** What no service row says: the settings tend refused, templates whose output has their sentinel. */
function notesOf(rt: Runtime): string[] {
  const notes: string[] = [];
  const refused = samplesOf(rt).settingsRefused();
  if (refused) notes.push(refused.reason);
  for (const t of rt.renderStatus()?.templates ?? []) {
    const hit = (t.missing ?? []).find((m) => m.startsWith('sentinel:'));
    if (hit) {
      notes.push(
        `${t.service}: ${shown(rt.plan.dir, t.destination)} holds its sentinel ${JSON.stringify(hit.slice(9))}; the last good file stays`,
      );
    }
  }
  return notes;
}

/** Services in the applied plan's start order; any the stack has beyond it (mid-reload) come last. */
export function serviceNames(rt: Runtime, cs: ControlState): string[] {
  const live = new Set(rt.stack.names());
  const ordered = cs.plan.order.filter((n) => live.has(n));
  for (const n of ordered) live.delete(n);
  return [...ordered, ...live];
}

export function statusView(rt: Runtime, cs: ControlState): StatusView {
  const state = rt.appState();
  const byService = templatesByService(rt);
  return {
    app: {
      name: cs.plan.name,
      state,
      file: cs.plan.file,
      pid: process.pid,
      version: VERSION,
      startedAt: cs.startedAt,
      // monotonic: a wall clock stepped back must not make it negative
      uptimeMs: Math.round(performance.now() - cs.startedMono),
      maintenance: cs.maintenance(),
      http: cs.httpUrl,
      ready: state === 'UP' && rt.stack.allReady(),
      notReady: rt.stack
        .status()
        .filter((s) => !s.job && !isReady(s))
        .map((s) => `${s.name} ${s.state}`),
      kv: { url: rt.kv.url, ...rt.kv.status() },
    },
    services: serviceNames(rt, cs)
      .map((n) => serviceView(rt, cs, n, byService))
      .filter((s): s is ServiceView => s !== undefined),
    disabled: cs.plan.disabled,
    templates: rt.renderStatus()?.templates,
    timeline: cs.timeline(),
    ...notifyView(rt),
    notes: notesOf(rt),
    ...(rt.rolloutStatus().length > 0 ? { rollouts: rt.rolloutStatus() } : {}),
  };
}

/** The notify sinks' counters; the kind is the first word of the sink's (already redacted) name. */
function notifyView(rt: Runtime): { notify?: NotifySinkView[] } {
  const stats = rt.notifyStats();
  if (stats.length === 0) return {};
  return {
    notify: stats.map((s, index) => ({
      index,
      kind: s.sink.split(' ')[0],
      sink: s.sink,
      sent: s.sent,
      failed: s.failed,
      dropped: s.dropped,
      queued: s.queued,
      ...(s.lastError ? { lastError: s.lastError } : {}),
    })),
  };
}

/** Why /readyz says no, in one line: the app state, or the services that are not ready and why. */
export function notReadyReason(rt: Runtime, _cs: ControlState): string | undefined {
  const state = rt.appState();
  if (state !== 'UP') return `app is ${state}`;
  const pending = rt.stack.status().filter((s) => !s.job && !isReady(s));
  if (pending.length === 0) return undefined;
  return pending.map((s) => describeNotReady(s.name, s, rt.stack.gates(s.name))).join(', ');
}
