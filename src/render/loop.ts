/**
 * The render loop of `tend up`: consul-template and envconsul inside tend.
 *
 * Units: every template of every service, and one env_from unit per service that has `env_from`. Each unit
 * renders against the shared snapshot (./snapshot.ts), watches exactly what its last render read, and renders
 * again after its `wait` quiescence when one of those keys changes. A template goes through the unit shared
 * with `tend render` (./unit.ts: load, resolve, checked commit), then its `on_change` is queued for its
 * service (./actions.ts). A service's queued actions run once none of its units is still rendering or waiting
 * out a quiescence: templates changing together cause one action (a restart wins over signals).
 *
 * The watch: ./watch.ts. A unit's pass: ./passes.ts. Gates and giving up: ./gates.ts. The settings overlay:
 * ./settings.ts.
 *
 * Outages: reads fail, the backend's watch reconnects with backoff and reports what changed meanwhile; units
 * that could not read retry. Nothing is rendered, so nothing restarts, until a value actually differs.
 */
import type { Bus, ConfigEvent } from '../events/index.js';
import type { KvBackend, WatchSpec } from '../kv/index.js';
import type { Command, Plan, ServicePlan } from '../manifest/types.js';
import { runCommand } from '../procs/index.js';
import type { ConfigOutcome, Stack } from '../supervisor/index.js';
import type { TemplateSource } from '../template/index.js';
import { backoffDelay, formatDuration, setLongTimeout, withTimeout } from '../time/index.js';
import { type Plan as ActionPlan, emptyBatch, takeBatch } from './actions.js';
import { envPrefix } from './envfrom.js';
import { CONFIG_GATE, createGates } from './gates.js';
import { createPasses } from './passes.js';
import { createRollouts, type RolloutHook } from './rollout.js';
import { createOverlay, SETTINGS_GATE, settingsChanged } from './settings.js';
import { specCovers } from './snapshot.js';
import { busy, type Group, type RenderStatus, statusOf, type TemplateUnit, type Unit } from './state.js';
import { commandLine, describeEnd, labelIn, outputTail, templateEnv } from './unit.js';
import { createKvWatch, union } from './watch.js';

export { CONFIG_GATE } from './gates.js';
export { SETTINGS_GATE } from './settings.js';
export type { EnvFromStatus, RenderStatus, TemplateStatus, UnitState } from './state.js';

const EXEC_TIMEOUT_MS = 60_000;

export interface RenderLoopOptions {
  plan: Plan;
  kv: KvBackend;
  bus: Bus;
  stack: Stack;
  /** tend's environment; a service's templates read it overlaid with the service's `env` */
  env: NodeJS.ProcessEnv;
  settings(): Record<string, unknown>;
  /** applies the KV overlay (pairs relative to kv_prefix); resolves true when the settings changed */
  updateSettings?(pairs: Array<{ key: string; value: string }>): Promise<boolean>;
  /** tend's own voice (`tend | …` lines) */
  out?: NodeJS.WritableStream;
  /** ends tend; called with exit code 3 when an essential service is given up on for missing config */
  shutdown?(code: number, reason: string): unknown;
  /** metrics: a file went live; a watch error (outage) */
  counters?: { rendered?(): void; watchError?(): void };
  /**
   * discovery, for `service` and `services`; without it they count as missing. Tell the loop about changes
   * with `dependencyChanged('service:NAME' | 'services')`.
   */
  services?: Pick<TemplateSource, 'service' | 'services' | 'catalog'>;
  /** delay before re-reading after a failed read; doubles up to retryMaxMs */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /**
   * the fleet's rollout (`rt.rollout`): changes of services with `rollout:` go through it instead of being
   * written at once (./rollout.ts)
   */
  rollout?: RolloutHook;
}

export interface RenderLoop {
  status(): RenderStatus;
  /** resolves once the settings overlay was applied (at once without kv_prefix) */
  settingsReady(): Promise<void>;
  /** resolves once no unit is rendering or waiting to render */
  idle(): Promise<void>;
  /** re-reads every template source and renders again (SIGHUP), resolving once idle */
  reloadTemplates(): Promise<void>;
  /** discovery data changed (`service:NAME`, `services`): renders again the templates that read it */
  dependencyChanged(dep: string): void;
  close(): Promise<void>;
}

export function createRenderLoop(opts: RenderLoopOptions): RenderLoop {
  const { plan, kv, bus, stack } = opts;
  const retryInitial = opts.retryInitialMs ?? 500;
  const retryMax = opts.retryMaxMs ?? 10_000;
  const groups = new Map<string, Group>();
  const abort = new AbortController();
  let closed = false;
  let outage: { since: number; error: string } | undefined;
  const idleWaiters: Array<() => void> = [];
  const running = new Set<Promise<void>>();

  const label = labelIn(plan.dir);
  const say = (text: string) => opts.out?.write(`tend | ${text}\n`);
  const publish = (e: Omit<ConfigEvent, 'kind' | 'time' | 'seq'>) => bus.publish({ kind: 'config', ...e });
  const backoff = (n: number) =>
    backoffDelay(n, { initialMs: retryInitial, maxMs: retryMax, jitter: 'none' });
  const units = () => [...groups.values()].flatMap((g) => g.units);
  /** the environment of the service's children (supervisor/env.ts): its check and on_change commands get it */
  const childEnv = (g: Group) => stack.envOf(g.name) ?? templateEnv(opts.env, g.plan);

  // ---- the watch ---------------------------------------------------------------------------------------

  const settingsPrefix = plan.settings.kvPrefix;

  /** watched whatever the units read last: the settings and env_from prefixes */
  const pinned = (): WatchSpec => ({
    keys: [],
    prefixes: [
      ...(settingsPrefix === undefined ? [] : [settingsPrefix]),
      ...units().flatMap((u) => (u.kind === 'env' ? u.prefixes : [])),
    ],
  });

  const watch = createKvWatch(kv, {
    baseDir: plan.dir,
    services: opts.services,
    onChanges(changes) {
      if (closed) return;
      const touches = (spec: WatchSpec) => changes.some((c) => specCovers(spec, c.key));
      for (const u of units()) if (touches(u.deps)) schedule(u);
      if (settingsPrefix !== undefined && touches({ keys: [], prefixes: [settingsPrefix] })) overlay.apply();
    },
  });
  const snapshot = watch.snapshot;

  /** Shrinks the watch to what the units read last (plus settings and env_from), forgetting the rest. */
  const refreshWatch = () => {
    if (!closed) watch.narrow(union(pinned(), ...units().map((u) => u.deps)));
  };

  const unsubscribeStatus = kv.onStatus((s) => {
    if (closed) return;
    if (!s.connected && s.error !== undefined) {
      opts.counters?.watchError?.();
      if (!outage) {
        outage = { since: Date.now(), error: s.error };
        const keep = groups.size > 0 ? 'services keep running on their last good files; ' : '';
        say(`KV store ${kv.url} unreachable (${s.error}): ${keep}reconnecting`);
        publish({ action: 'error', reason: `KV store ${kv.url} unreachable: ${s.error}` });
        // services still waiting for their first render say why
        for (const g of groups.values()) if (g.units.some((u) => !u.done)) gates.refresh(g);
      }
    } else if (s.connected && outage) {
      say(`KV store ${kv.url} reachable again after ${formatDuration(Date.now() - outage.since)}`);
      outage = undefined;
      // whatever failed to read tries again now rather than at the end of its backoff
      for (const u of units()) {
        if (u.retry) {
          clearTimeout(u.retry);
          u.retry = undefined;
          run(u);
        }
      }
      overlay.retryNow();
    }
  });

  const overlay = createOverlay({
    prefix: settingsPrefix,
    kvUrl: kv.url,
    stack,
    snapshot,
    updateSettings: opts.updateSettings,
    closed: () => closed,
    backoff,
    say,
    publish,
    onReady: () => {
      for (const u of units()) run(u);
    },
    onChanged: () => {
      // each service's own action first, so that it joins its templates' actions of the same change
      const touched = settingsChanged(stack, groups, settingsPrefix ?? '');
      for (const g of touched) inOrder.add(g);
      for (const u of units()) if (u.kind === 'template') schedule(u);
      flushInOrder();
    },
  });

  const gates = createGates({
    stack,
    bus,
    groups,
    closed: () => closed,
    settingsReady: () => overlay.ready(),
    outage: () => outage,
    shutdown: opts.shutdown,
  });

  // ---- scheduling --------------------------------------------------------------------------------------

  const clearTimers = (u: Unit) => {
    u.quiet?.clear();
    u.cap?.clear();
    u.quiet = undefined;
    u.cap = undefined;
  };

  /** After a change: render once no further change came for `wait.min`, and at the latest after `wait.max`. */
  const schedule = (u: Unit) => {
    if (closed || !overlay.ready()) return;
    const wait = u.kind === 'template' ? u.plan.wait : { minMs: 0, maxMs: 0 };
    const fire = () => {
      clearTimers(u);
      run(u);
    };
    if (wait.minMs <= 0) return fire();
    u.quiet?.clear();
    u.quiet = setLongTimeout(fire, wait.minMs);
    if (!u.cap && wait.maxMs > 0) u.cap = setLongTimeout(fire, wait.maxMs);
  };

  const run = (u: Unit) => {
    if (closed || !overlay.ready()) return;
    if (u.running) {
      u.again = true;
      return;
    }
    clearTimeout(u.retry);
    u.retry = undefined;
    u.running = true;
    const p = (u.kind === 'template' ? passes.template(u) : passes.env(u))
      .catch((e: Error) => {
        passes.setProblem(u, { state: 'error', reason: `internal error: ${e.message}` });
      })
      .finally(() => {
        running.delete(p);
        u.running = false;
        if (closed) return;
        if (u.again) {
          u.again = false;
          run(u);
          return;
        }
        if (!groups.has(u.group.name) || !u.group.units.includes(u)) return checkIdle();
        // actions first: a service the gate lets start below spawns on the new file, with nothing to redo
        flush(u.group);
        gates.refresh(u.group);
        refreshWatch();
        checkIdle();
      });
    running.add(p);
  };

  const retryLater = (u: Unit) => {
    clearTimeout(u.retry);
    u.retry = setTimeout(
      () => {
        u.retry = undefined;
        run(u);
      },
      backoff(u.retries++),
    );
  };

  const checkIdle = () => {
    if (units().some(busy)) return;
    for (const f of idleWaiters.splice(0)) f();
  };

  // ---- rollouts (./rollout.ts) ---------------------------------------------------------------------

  const rollouts = opts.rollout
    ? createRollouts({
        hook: opts.rollout,
        plan,
        stack,
        childEnv,
        signal: abort.signal,
        closed: () => closed,
        say,
        publish,
        rendered: () => opts.counters?.rendered?.(),
        settled: () => checkIdle(),
      })
    : undefined;

  // ---- passes (./passes.ts) -------------------------------------------------------------------------

  const passes = createPasses({
    plan,
    stack,
    snapshot,
    env: opts.env,
    settings: () => opts.settings(),
    childEnv,
    label,
    closed: () => closed,
    signal: abort.signal,
    say,
    publish,
    retryLater: (u) => retryLater(u),
    rendered: () => opts.counters?.rendered?.(),
    rollouts,
  });

  // ---- actions -----------------------------------------------------------------------------------------

  /**
   * The groups a settings change touched: acted on together once none of them is still rendering, so that
   * their restarts follow `after` (stack.configChangedInOrder) as `tend up` orders a start.
   */
  const inOrder = new Set<Group>();

  /** Runs a service's queued actions once none of its units is still rendering or waiting to. */
  const flush = (g: Group) => {
    if (inOrder.has(g)) return flushInOrder();
    if (closed || g.units.some(busy)) return;
    rollouts?.flush(g);
    const todo = takeBatch(g.batch);
    if (!todo) return;
    // what the change does where the service is (restart, signals, nothing) is the service machine's rule
    const did = stack.configChanged(g.name, todo, `config changed: ${todo.what}`);
    acted(g, todo, did);
  };

  const flushInOrder = () => {
    if (closed) return;
    for (const g of inOrder) if (g.units.some(busy)) return;
    const todo = [...inOrder].flatMap((g) => {
      const t = takeBatch(g.batch);
      return t ? [{ g, t }] : [];
    });
    inOrder.clear();
    const did = stack.configChangedInOrder(
      todo.map(({ g, t }) => ({ name: g.name, change: t, reason: `config changed: ${t.what}` })),
    );
    for (const [i, { g, t }] of todo.entries()) acted(g, t, did[i]);
  };

  const acted = (g: Group, todo: ActionPlan, did: ConfigOutcome) => {
    if (did.did === 'signalled')
      say(`${g.name}: config changed (${todo.what}); sent ${did.signals.join(', ')}`);
    for (const command of todo.execs) void runExec(g, command, todo.what);
  };

  const runExec = async (g: Group, command: Command, what: string) => {
    const r = await runCommand(commandLine(command), {
      cwd: plan.dir,
      env: childEnv(g),
      // the service's child: as its user and groups
      uid: g.plan.runAs?.uid,
      gid: g.plan.runAs?.gid,
      groups: g.plan.runAs?.groups,
      timeoutMs: EXEC_TIMEOUT_MS,
      signal: abort.signal,
    });
    if (!r.ok && !r.aborted) {
      const reason = `on_change command for ${what} failed (${describeEnd(r, EXEC_TIMEOUT_MS)})${outputTail(r.output)}`;
      say(`${g.name}: ${reason}`);
      publish({ action: 'error', service: g.name, reason });
    }
  };

  // ---- services ----------------------------------------------------------------------------------------

  const addGroup = (sp: ServicePlan) => {
    const g: Group = { name: sp.name, plan: sp, units: [], batch: emptyBatch(), failedByConfig: false };
    const base = {
      group: g,
      deps: { keys: [], prefixes: [] },
      done: false,
      running: false,
      again: false,
      retries: 0,
    };
    for (const t of sp.templates) {
      g.units.push({ ...base, kind: 'template', plan: t, label: label(t.destination), discovery: [] });
    }
    if (sp.envFrom.length > 0) {
      const prefixes = sp.envFrom.map(envPrefix);
      g.units.push({
        ...base,
        kind: 'env',
        prefixes,
        label: `env_from ${sp.envFrom.map((e) => e.prefix).join(', ')}`,
        deps: { keys: [], prefixes },
      });
    }
    const settingsWait = overlay.gateReason();
    if (settingsWait !== undefined) stack.setGate(sp.name, SETTINGS_GATE, settingsWait);
    if (g.units.length === 0) return;
    groups.set(sp.name, g);
    stack.setGate(sp.name, CONFIG_GATE, gates.waiting(g.units));
    for (const u of g.units) run(u);
  };

  const dropGroup = (name: string) => {
    const g = groups.get(name);
    if (!g) return;
    groups.delete(name);
    g.failTimer?.clear();
    for (const u of g.units) {
      clearTimers(u);
      clearTimeout(u.retry);
    }
  };

  const unsubscribeStack = stack.onServiceChange((name, change) => {
    if (closed) return;
    dropGroup(name);
    if (change === 'added') {
      const sp = stack.runner(name)?.plan;
      if (sp) addGroup(sp);
    }
    refreshWatch();
    checkIdle();
  });

  for (const name of stack.names()) {
    const sp = stack.runner(name)?.plan;
    if (sp) addGroup(sp);
  }
  overlay.apply();

  return {
    status: () => ({ kv: { url: kv.url, ...kv.status() }, ...statusOf(groups.values()) }),
    settingsReady: () => overlay.readyPromise,
    idle() {
      if (!units().some(busy)) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    async reloadTemplates() {
      for (const u of units()) {
        if (u.kind === 'template') u.tpl = undefined;
        clearTimers(u);
        run(u);
      }
      await this.idle();
    },
    dependencyChanged(dep) {
      for (const g of groups.values()) {
        const affected = g.units.filter(
          (u): u is TemplateUnit => u.kind === 'template' && u.discovery.includes(dep),
        );
        if (affected.length === 0) continue;
        // hold a start until these files are rendered again (`requires` opens its gate on the same change;
        // a running process is not touched by a gate)
        stack.setGate(g.name, CONFIG_GATE, gates.rerendering(affected, dep));
        for (const u of affected) schedule(u);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      abort.abort();
      gates.close();
      unsubscribeStack();
      unsubscribeStatus();
      overlay.close();
      for (const name of [...groups.keys()]) dropGroup(name);
      await watch.close();
      // a read stuck on an unreachable store ends with its request timeout: don't hold tend's exit for it
      await withTimeout(Promise.allSettled([...running]), 1000, () => undefined, { unref: true });
      for (const f of idleWaiters.splice(0)) f();
    },
  };
}
