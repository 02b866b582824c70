/**
 * Rolling config changes through the fleet (`rollout:`, docs/fleet.md). The render loop hands a change it has not
 * written yet to `rt.rollout` (src/app/run.ts wires this module's `apply` there); here it is rolled:
 *
 * 1. content marked failed by any tend (`rollout/<app>/<service>/failed/<hex>`) is skipped: nothing is written,
 *    nothing restarts, the service keeps its last good file until a newer change comes;
 * 2. a slot of the service's semaphore (`rollout/<app>/<service>/slots/`, keys bound to this tend's lease) is
 *    taken: at most `max_parallel` tends apply a change to the service at once, first come first served;
 * 3. the failed mark is read again (a canary may have failed while this tend waited), then the change is applied
 *    (files written, restart or reload) and the service watched until it is ready again: its `ready` check passes
 *    on a new process, or, without one, it has run READY_UPTIME_MS;
 * 4. not ready within `ready_timeout`: the previous files go back, the service restarts on them, and the content
 *    is marked failed (before the slot is given back, so that the next in line sees the mark);
 * 5. the slot is given back. A tend that dies or loses the store loses its slot with its lease (one lease per
 *    change, revoked when it is over).
 *
 * A newer change of the same service while this one waits for a slot supersedes it (the render loop aborts it).
 * The store being unreachable while waiting is retried with backoff: the change is applied once it answers.
 */
import { hostname } from 'node:os';
import type { Lease } from '../kv/index.js';
import {
  EXIT,
  type Module,
  type RolloutChange,
  type RolloutOutcome,
  type RolloutStatus,
  type Runtime,
  StartError,
} from '../runtime/index.js';
import { isReady } from '../supervisor/index.js';
import { backoffDelay, sleep } from '../time/index.js';
import { DEFAULT_TTL_MS } from './doc.js';
import { acquireSlot, type Slot, semaphoreUnsupported } from './semaphore.js';

/** without a `ready` check, a service counts as ready again once its new process has run this long */
export const READY_UPTIME_MS = 2000;
/** how often the service is looked at while a change waits to be ready (only during a rollout) */
const POLL_MS = 100;

export const ROLLOUT_PREFIX = 'rollout/';
/** the folder of one service's rollout in the store (under the URL's namespace) */
export const rolloutPrefix = (app: string, service: string) => `${ROLLOUT_PREFIX}${app}/${service}/`;
/** the key marking a content failed: the hex digits of its hash */
export const failedKey = (app: string, service: string, hash: string) =>
  `${rolloutPrefix(app, service)}failed/${hash.replace(/^sha256:/, '')}`;

/** Services (or their templates) with `rollout:` in a plan, each with where it is written. */
export function rollouts(plan: Runtime['plan']): Array<{ service: string; at: string }> {
  const out: Array<{ service: string; at: string }> = [];
  for (const name of plan.order) {
    const sp = plan.services[name];
    if (!sp) continue;
    const at = sp.rollout?.at ?? sp.templates.find((t) => t.rollout)?.rollout?.at;
    if (at !== undefined) out.push({ service: name, at });
  }
  return out;
}

/** The store as the rollout sees it: its kind, and for `file:` whether it is one hand-edited YAML/JSON document. */
export interface RolloutStore {
  kind: 'file' | 'etcd' | 'consul';
  document: boolean;
}

/**
 * What `tend check` and the start say about a rollout on a store that cannot hold one: one line per service,
 * naming where `rollout:` is written. Empty when the store can (or nothing rolls).
 */
export function rolloutProblems(plan: Runtime['plan'], store: RolloutStore): string[] {
  // A one-document store is the operator's own file: the failed mark would be a read-change-write of it that no
  // lock spans, and an edit saved in the same instant would be lost. tend writes nothing there (nor its fleet
  // document), so a rollout, which must be able to say "this content failed" to the others, is refused.
  const why = store.document
    ? "a file store that is one YAML/JSON document is the operator's file, and tend writes nothing into it"
    : semaphoreUnsupported(store.kind);
  if (!why) return [];
  const fix = store.document
    ? 'use a folder store (kv: file:./kv), etcd or Consul, or remove rollout:'
    : 'use an etcd store (kv: etcd://…), or remove rollout:';
  return rollouts(plan).map(
    (r) =>
      `${r.at}: services.${r.service}.rollout: ${why}; a rollout needs the KV store to hold its slots and failed marks: ${fix}`,
  );
}

export interface RolloutModule extends Module {
  apply(change: RolloutChange): Promise<RolloutOutcome>;
  status(): RolloutStatus[];
  /** called after every phase change (the fleet document is rebuilt); returns the unsubscribe function */
  onChange(cb: () => void): () => void;
}

export function rolloutModule(): RolloutModule {
  let current: Coordinator | undefined;
  const listeners = new Set<() => void>();
  const changed = () => {
    for (const cb of listeners) cb();
  };
  return {
    name: 'rollout',
    apply: (change) => (current ? current.apply(change) : applyAtOnce(change)),
    status: () => current?.status() ?? [],
    onChange(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    async attach(rt) {
      if (!rt.plan.file) return undefined;
      // folder stores have `touch`; a one-document store has not
      const problems = rolloutProblems(rt.plan, {
        kind: rt.kv.kind,
        document: rt.kv.kind === 'file' && rt.kv.touch === undefined,
      });
      if (problems.length > 0) throw new StartError(problems.join('\n'), EXIT.usage);
      // on a store with a semaphore the coordinator is there even when no service rolls yet (a reload may add
      // `rollout:`); it does no I/O before the first change
      if (semaphoreUnsupported(rt.kv.kind)) return undefined;
      const c = createCoordinator(rt, changed);
      current = c;
      return {
        async close() {
          current = undefined;
          await c.close();
        },
      };
    },
  };
}

/** No coordinator (nothing declared a rollout when tend started; a reload added one): applied as before. */
async function applyAtOnce(change: RolloutChange): Promise<RolloutOutcome> {
  const r = await change.apply();
  return r.applied ? 'applied' : 'not-applied';
}

interface Coordinator {
  apply(change: RolloutChange): Promise<RolloutOutcome>;
  status(): RolloutStatus[];
  close(): Promise<void>;
}

function createCoordinator(rt: Runtime, changed: () => void): Coordinator {
  const kv = rt.kv;
  const app = rt.plan.name;
  const holder = rt.env.TEND_FLEET_NAME?.trim() || hostname();
  const n = Number(rt.env.TEND_FLEET_TTL_MS);
  const ttlMs = Number.isFinite(n) && n > 0 ? Math.max(1000, Math.round(n)) : DEFAULT_TTL_MS;
  const closing = new AbortController();
  const states = new Map<string, RolloutStatus>();
  const inFlight = new Set<Promise<unknown>>();
  const setPhase = (c: RolloutChange, phase: RolloutStatus['phase'], reason?: string) => {
    states.set(c.service, { service: c.service, phase, hash: c.hash, since: Date.now(), reason });
    changed();
  };

  const tell = (c: RolloutChange, outcome: 'applied' | 'failed' | 'skipped', reason: string) => {
    rt.bus.publish({ kind: 'config', action: 'rollout', service: c.service, hash: c.hash, outcome, reason });
  };

  const short = (hash: string) => hash.replace(/^sha256:/, '').slice(0, 12);

  const failedMark = async (c: RolloutChange): Promise<{ host?: string; reason?: string } | undefined> => {
    const v = await kv.get(failedKey(app, c.service, c.hash));
    if (v === undefined) return undefined;
    try {
      return JSON.parse(v) as { host?: string; reason?: string };
    } catch {
      return {};
    }
  };

  const skip = (c: RolloutChange, mark: { host?: string; reason?: string }): RolloutOutcome => {
    const reason = `${c.what} (content ${short(c.hash)}) failed on ${mark.host ?? 'another tend'}${mark.reason ? ` (${mark.reason})` : ''}; not applied here: ${c.service} keeps its last good config until a newer change`;
    tell(c, 'skipped', reason);
    setPhase(c, 'skipped', reason);
    return 'skipped';
  };

  /**
   * `ready` once the service is ready on the change, `timeout` after `ready_timeout`; `moot` when the question
   * went away: tend is stopping, or an operator stopped the service (its not being ready says nothing of the
   * change, which must not be marked failed for it).
   */
  const waitReady = async (
    c: RolloutChange,
    restarted: boolean,
    t0: number,
  ): Promise<'ready' | 'timeout' | 'moot'> => {
    const hasCheck = rt.stack.runner(c.service)?.plan.ready !== undefined;
    const deadline = t0 + c.readyTimeoutMs;
    for (;;) {
      const app = rt.appState();
      if (closing.signal.aborted || app === 'STOPPING' || app === 'STOPPED') return 'moot';
      const s = rt.stack.status().find((x) => x.name === c.service);
      if (!s || s.desired === 'down') return 'moot';
      const now = Date.now();
      if (s && isReady(s) && s.startedAt !== undefined) {
        // restarted: a process started after the change is ready (its check, else its uptime); signalled (a
        // reload): the process is still ready a while after the signal (it may have restarted meanwhile)
        const upLongEnough = hasCheck || now - s.startedAt >= READY_UPTIME_MS;
        const onTheChange = restarted ? s.startedAt >= t0 : now - t0 >= READY_UPTIME_MS;
        if (upLongEnough && onTheChange) return 'ready';
      }
      if (now >= deadline) return 'timeout';
      await sleep(Math.min(POLL_MS, Math.max(1, deadline - now)));
    }
  };

  const abortable = (c: RolloutChange) => AbortSignal.any([c.signal, closing.signal]);

  const roll = async (c: RolloutChange): Promise<RolloutOutcome> => {
    setPhase(c, 'waiting');
    const signal = abortable(c);
    let slot: Slot | undefined;
    /** given up before applying: the status shows nothing rather than a wait that will not end */
    const gaveUp = (outcome: 'closed' | 'superseded'): RolloutOutcome => {
      if (states.get(c.service)?.hash === c.hash) {
        states.delete(c.service);
        changed();
      }
      return outcome;
    };
    // One lease per change, revoked once it is over: a lease lost while waiting (an outage longer than its TTL,
    // after which the client may still believe in it) is dropped with the attempt and never reused.
    let lease: Lease | undefined;
    const dropLease = () => {
      void lease?.revoke().catch(() => {
        // unreachable: it expires by itself
      });
      lease = undefined;
    };
    for (let attempt = 0; ; attempt++) {
      if (closing.signal.aborted) return gaveUp('closed');
      if (c.signal.aborted) return gaveUp('superseded');
      try {
        const mark = await failedMark(c);
        if (mark) return skip(c, mark);
        lease ??= await kv.grantLease(ttlMs);
        slot = await acquireSlot(kv, {
          prefix: `${rolloutPrefix(app, c.service)}slots/`,
          max: c.maxParallel,
          lease,
          holder,
          signal,
        });
        break;
      } catch {
        // aborted (superseded, closing), the store unreachable, or the key gone with the lease while waiting:
        // a new lease and a new place in the queue
        dropLease();
        if (signal.aborted) continue;
        await sleep(backoffDelay(attempt, { initialMs: 250, maxMs: 5000, jitter: 'half' }), signal);
      }
    }
    try {
      // a canary may have failed while this tend waited: it must not restart on that content
      const mark = await failedMark(c).catch(() => undefined);
      if (mark) return skip(c, mark);
      setPhase(c, 'applying');
      const t0 = Date.now();
      const r = await c.apply();
      if (!r.applied) {
        states.delete(c.service);
        return 'not-applied';
      }
      const ready = await waitReady(c, r.restart, t0);
      if (ready === 'moot') {
        if (states.get(c.service)?.hash === c.hash) {
          states.delete(c.service);
          changed();
        }
        return 'closed';
      }
      if (ready === 'ready') {
        const reason = `${c.what} (content ${short(c.hash)}) applied; ${c.service} ready`;
        tell(c, 'applied', reason);
        setPhase(c, 'done');
        return 'applied';
      }
      const why = `not ready within ${Math.round(c.readyTimeoutMs / 100) / 10}s`;
      await c.revert();
      const reason = `${c.what} (content ${short(c.hash)}): ${c.service} ${why}; the previous config is back and the change is marked failed, so the other tends skip it`;
      await markFailed(c, why);
      tell(c, 'failed', reason);
      setPhase(c, 'failed', reason);
      return 'failed';
    } finally {
      await slot.release().catch(() => {
        // unreachable: the key goes with the lease
      });
      dropLease();
    }
  };

  /** Written before the slot is given back; retried briefly (the next in line must see it). No lease: it stays. */
  const markFailed = async (c: RolloutChange, reason: string) => {
    const value = JSON.stringify({ hash: c.hash, host: holder, reason, at: new Date().toISOString() });
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await kv.put(failedKey(app, c.service, c.hash), value);
        return;
      } catch {
        await sleep(backoffDelay(attempt, { initialMs: 200, maxMs: 2000, jitter: 'none' }));
      }
    }
  };

  return {
    apply(change) {
      const p = roll(change);
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p)).catch(() => {});
      return p;
    },
    status: () => [...states.values()],
    async close() {
      closing.abort();
      // each change revokes its own lease as it ends
      await Promise.allSettled([...inFlight]);
    },
  };
}
