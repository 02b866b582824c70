/**
 * The render loop of `tend up`: consul-template and envconsul inside tend.
 *
 * Units: every template of every service, and one env_from unit per service that has `env_from`. Each unit
 * renders against the shared snapshot (./snapshot.ts), watches exactly what its last render read, and renders
 * again after its `wait` quiescence when one of those keys changes. A template's new bytes are staged next to
 * the destination, checked, and renamed into place, then its `on_change` is queued for its service. A service's
 * queued actions run once none of its units is still rendering or waiting out a quiescence: templates changing
 * together cause one action (a restart wins over signals).
 *
 * Gates: a service does not start until every unit of it completed once in this run (gate `config`, whose
 * reason names what is missing), nor, with `settings.kv_prefix`, before the KV overlay was applied (gate
 * `settings`). Once started, a service is never held back again: a key deleted later, a failing check or an
 * outage leave it running on its last good files.
 *
 * Failing: `missing: fail` gives a waiting service up at once (`failed`), `missing_timeout` after that long;
 * complete config later starts it. An essential service given up on ends tend with exit code 3.
 *
 * Outages: reads fail, the backend's watch reconnects with backoff and reports what changed meanwhile; units
 * that could not read retry. Nothing is rendered, so nothing restarts, until a value actually differs.
 *
 * Settings: keys under `kv_prefix` are overlaid on the settings (rt.updateSettings). A settings change
 * re-renders every template (`.Settings` may be read anywhere); only templates whose bytes changed act.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';
import type { Bus, ConfigEvent } from '../events/index.js';
import type { KvBackend, KvChange, KvStatus, Watcher, WatchSpec } from '../kv/index.js';
import { describeResult, runCommand } from '../lifecycle/command.js';
import type { Command, OnChange, Plan, ServicePlan, TemplatePlan } from '../manifest/types.js';
import type { Stack } from '../supervisor/index.js';
import { fmtMs } from '../supervisor/machine.js';
import type { Template, TemplateSource } from '../template/index.js';
import { parseConsulTemplate, TemplateError } from '../template/index.js';
import { envFromPairs, envPrefix, envProblem } from './envfrom.js';
import { resolveTemplate } from './resolve.js';
import { createSnapshot, specCovers } from './snapshot.js';
import { readCurrent, removeLeftovers, stage } from './write.js';

export const CONFIG_GATE = 'config';
export const SETTINGS_GATE = 'settings';
/** tend's exit code when config is incomplete (SPEC §2) */
export const EXIT_INCOMPLETE = 3;

const CHECK_TIMEOUT_MS = 60_000;
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
  services?: Pick<TemplateSource, 'service' | 'services'>;
  /** delay before re-reading after a failed read; doubles up to retryMaxMs */
  retryInitialMs?: number;
  retryMaxMs?: number;
}

export type UnitState = 'pending' | 'rendered' | 'incomplete' | 'error' | 'check-failed' | 'unreachable';

export interface TemplateStatus {
  service: string;
  source: string;
  destination: string;
  state: UnitState;
  /** why it is not rendered, or what went wrong on the last try (the service keeps its last good file) */
  reason?: string;
  missing?: string[];
  /** ms since epoch of the last write */
  renderedAt?: number;
}

export interface EnvFromStatus {
  service: string;
  prefixes: string[];
  state: UnitState;
  reason?: string;
  /** names of the variables set (never their values) */
  names: string[];
}

export interface RenderStatus {
  kv: { url: string } & KvStatus;
  templates: TemplateStatus[];
  envFrom: EnvFromStatus[];
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

interface Problem {
  state: Exclude<UnitState, 'pending' | 'rendered'>;
  reason: string;
  missing?: string[];
  /** cannot get better without editing the template (parse error): a waiting service fails at once */
  fatal?: boolean;
}

interface UnitBase {
  group: Group;
  label: string;
  deps: WatchSpec;
  /** completed at least once in this run: its service may have started on it */
  done: boolean;
  problem?: Problem;
  running: boolean;
  again: boolean;
  quiet?: NodeJS.Timeout;
  cap?: NodeJS.Timeout;
  retry?: NodeJS.Timeout;
  retries: number;
}

interface TemplateUnit extends UnitBase {
  kind: 'template';
  /** discovery the last render read: `service:NAME`, `services` */
  discovery: string[];
  plan: TemplatePlan;
  tpl?: Template;
  /** leftovers of a crashed tend next to the destination were removed */
  swept?: boolean;
  renderedAt?: number;
}

interface EnvUnit extends UnitBase {
  kind: 'env';
  prefixes: string[];
  vars?: Record<string, string>;
}

type Unit = TemplateUnit | EnvUnit;

type Action =
  | { kind: 'restart' }
  | { kind: 'signal'; signal: NodeJS.Signals }
  | { kind: 'exec'; command: Command };

interface Group {
  name: string;
  plan: ServicePlan;
  units: Unit[];
  actions: Map<string, Action>;
  /** what changed, for the action's reason */
  changed: Set<string>;
  failTimer?: NodeJS.Timeout;
  failedByConfig: boolean;
}

export function createRenderLoop(opts: RenderLoopOptions): RenderLoop {
  const { plan, kv, bus, stack } = opts;
  const out = opts.out;
  const retryInitial = opts.retryInitialMs ?? 500;
  const retryMax = opts.retryMaxMs ?? 10_000;
  const groups = new Map<string, Group>();
  const abort = new AbortController();
  let closed = false;
  let watcher: Watcher | undefined;
  let watched: WatchSpec = { keys: [], prefixes: [] };
  let idleWaiters: Array<() => void> = [];
  const running = new Set<Promise<void>>();

  const settingsPrefix = plan.settings.kvPrefix;
  let settingsOk = settingsPrefix === undefined;
  let resolveSettings!: () => void;
  const settingsPromise = new Promise<void>((r) => {
    resolveSettings = r;
  });
  if (settingsOk) resolveSettings();
  let settingsChain: Promise<void> = Promise.resolve();
  let settingsRetry: NodeJS.Timeout | undefined;
  let settingsRetries = 0;

  const label = (p: string) => {
    const r = relative(plan.dir, p);
    return r === '' || r.startsWith('..') || isAbsolute(r) ? p : r;
  };
  const say = (text: string) => out?.write(`tend | ${text}\n`);
  const publish = (e: Omit<ConfigEvent, 'kind' | 'time' | 'seq'>) => bus.publish({ kind: 'config', ...e });

  // ---- the watch ---------------------------------------------------------------------------------------

  const pinned = (): WatchSpec => {
    const prefixes: string[] = [];
    if (settingsPrefix !== undefined) prefixes.push(settingsPrefix);
    for (const g of groups.values())
      for (const u of g.units) if (u.kind === 'env') prefixes.push(...u.prefixes);
    return { keys: [], prefixes };
  };

  const union = (...specs: WatchSpec[]): WatchSpec => ({
    keys: [...new Set(specs.flatMap((s) => s.keys))].sort(),
    prefixes: [...new Set(specs.flatMap((s) => s.prefixes))].sort(),
  });

  const setWatch = (spec: WatchSpec) => {
    if (closed) return;
    if (JSON.stringify(spec) === JSON.stringify(watched)) return;
    watched = spec;
    if (!watcher) {
      if (spec.keys.length === 0 && spec.prefixes.length === 0) return;
      watcher = kv.watch(spec, onChanges);
    } else watcher.update(spec);
  };

  /** Shrinks the watch to what the units read last (plus settings and env_from), forgetting the rest. */
  const refreshWatch = () => {
    const need = union(pinned(), ...[...groups.values()].flatMap((g) => g.units.map((u) => u.deps)));
    snapshot.retain(need);
    setWatch(need);
  };

  const snapshot = createSnapshot(kv, {
    baseDir: plan.dir,
    services: opts.services,
    // Grows the watch only: a read under way elsewhere must not lose its key from the watch meanwhile.
    async beforeRead(spec) {
      setWatch(union(watched, spec));
      await watcher?.synced();
    },
  });

  const onChanges = (changes: KvChange[]) => {
    if (closed) return;
    snapshot.apply(changes);
    const touches = (spec: WatchSpec) => changes.some((c) => specCovers(spec, c.key));
    for (const g of groups.values()) for (const u of g.units) if (touches(u.deps)) schedule(u);
    if (settingsPrefix !== undefined && touches({ keys: [], prefixes: [settingsPrefix] })) applySettings();
  };

  let outage: { since: number; error: string } | undefined;
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
        for (const g of groups.values()) if (g.units.some((u) => !u.done)) refreshGate(g);
      }
    } else if (s.connected && outage) {
      say(`KV store ${kv.url} reachable again after ${fmtMs(Date.now() - outage.since)}`);
      outage = undefined;
      // whatever failed to read tries again now rather than at the end of its backoff
      for (const g of groups.values()) {
        for (const u of g.units) {
          if (u.retry) {
            clearTimeout(u.retry);
            u.retry = undefined;
            run(u);
          }
        }
      }
      if (settingsRetry) {
        clearTimeout(settingsRetry);
        settingsRetry = undefined;
        applySettings();
      }
    }
  });

  // ---- settings overlay --------------------------------------------------------------------------------

  const applySettings = () => {
    if (settingsPrefix === undefined || closed) return;
    settingsChain = settingsChain.then(async () => {
      if (closed) return;
      let pairs = snapshot.pairs(settingsPrefix);
      try {
        for (let i = 0; pairs === undefined && i < 8; i++) {
          await snapshot.fetch({ keys: [], prefixes: [settingsPrefix] });
          pairs = snapshot.pairs(settingsPrefix);
        }
      } catch {
        pairs = undefined;
      }
      if (closed) return;
      if (pairs === undefined) {
        const delay = backoff(settingsRetries++);
        settingsRetry = setTimeout(() => {
          settingsRetry = undefined;
          applySettings();
        }, delay);
        for (const name of stack.names()) {
          if (!settingsOk)
            stack.setGate(name, SETTINGS_GATE, `waiting for settings from ${kv.url} ${settingsPrefix}`);
        }
        return;
      }
      settingsRetries = 0;
      let changed = false;
      try {
        changed =
          (await opts.updateSettings?.(
            pairs.map((p) => ({ key: p.key.slice(settingsPrefix.length), value: p.value })),
          )) ?? false;
      } catch (e) {
        const reason = `settings from ${settingsPrefix} refused, keeping the last good settings: ${(e as Error).message}`;
        say(reason);
        publish({ action: 'error', reason });
      }
      if (!settingsOk) {
        settingsOk = true;
        for (const name of stack.names()) stack.setGate(name, SETTINGS_GATE, null);
        resolveSettings();
        for (const g of groups.values()) for (const u of g.units) run(u);
      } else if (changed) {
        for (const g of groups.values()) for (const u of g.units) if (u.kind === 'template') schedule(u);
      }
    });
  };

  const backoff = (n: number) => Math.min(retryMax, retryInitial * 2 ** Math.min(n, 16));

  // ---- scheduling --------------------------------------------------------------------------------------

  const clearTimers = (u: Unit) => {
    clearTimeout(u.quiet);
    clearTimeout(u.cap);
    u.quiet = undefined;
    u.cap = undefined;
  };

  /** After a change: render once no further change came for `wait.min`, and at the latest after `wait.max`. */
  const schedule = (u: Unit) => {
    if (closed || !settingsOk) return;
    const wait = u.kind === 'template' ? u.plan.wait : { minMs: 0, maxMs: 0 };
    if (wait.minMs <= 0) {
      clearTimers(u);
      run(u);
      return;
    }
    const fire = () => {
      clearTimers(u);
      run(u);
    };
    clearTimeout(u.quiet);
    u.quiet = setTimeout(fire, wait.minMs);
    if (!u.cap && wait.maxMs > 0) u.cap = setTimeout(fire, wait.maxMs);
  };

  const run = (u: Unit) => {
    if (closed || !settingsOk) return;
    if (u.running) {
      u.again = true;
      return;
    }
    clearTimeout(u.retry);
    u.retry = undefined;
    u.running = true;
    const p = (u.kind === 'template' ? passTemplate(u) : passEnv(u))
      .catch((e: Error) => {
        setProblem(u, { state: 'error', reason: `internal error: ${e.message}` });
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
        refreshGate(u.group);
        refreshWatch();
        flush(u.group);
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

  const busy = () =>
    [...groups.values()].some((g) =>
      g.units.some((u) => u.running || u.quiet !== undefined || u.cap !== undefined),
    );

  const checkIdle = () => {
    if (busy()) return;
    const w = idleWaiters;
    idleWaiters = [];
    for (const f of w) f();
  };

  // ---- passes ------------------------------------------------------------------------------------------

  const serviceEnv = (g: Group): Record<string, string | undefined> => ({ ...opts.env, ...g.plan.env });

  const dataFor = (g: Group) => ({
    App: plan.name,
    Service: g.name,
    Settings: opts.settings(),
    Env: serviceEnv(g),
  });

  const problemEvent: Record<Problem['state'], ConfigEvent['action'] | undefined> = {
    incomplete: 'missing',
    error: 'error',
    'check-failed': 'check-failed',
    // the outage has its own event; one per template would only repeat it
    unreachable: undefined,
  };

  const setProblem = (u: Unit, p: Problem) => {
    const before = u.problem;
    u.problem = p;
    if (before?.state === p.state && before.reason === p.reason) return;
    const action = problemEvent[p.state];
    if (!action) return;
    publish({
      action,
      service: u.group.name,
      destination: u.kind === 'template' ? u.plan.destination : undefined,
      reason: `${u.label} ${p.reason}`,
      missing: p.missing,
    });
    if (u.done) say(`${u.group.name}: ${u.label} ${p.reason}; the service keeps its last good config`);
  };

  const markDone = (u: Unit) => {
    u.problem = undefined;
    u.done = true;
    u.retries = 0;
  };

  const queue = (g: Group, action: OnChange | { kind: 'restart' }, what: string) => {
    g.changed.add(what);
    switch (action.kind) {
      case 'restart':
        g.actions.set('restart', { kind: 'restart' });
        break;
      case 'reload':
        g.actions.set(`signal:${g.plan.reloadSignal}`, { kind: 'signal', signal: g.plan.reloadSignal });
        break;
      case 'signal':
        g.actions.set(`signal:${action.signal}`, { kind: 'signal', signal: action.signal });
        break;
      case 'exec':
        g.actions.set(`exec:${JSON.stringify(action.command)}`, { kind: 'exec', command: action.command });
        break;
      case 'none':
        break;
    }
  };

  async function passTemplate(u: TemplateUnit): Promise<void> {
    const g = u.group;
    if (!u.tpl) {
      let text: string;
      try {
        text = await readFile(u.plan.source, 'utf8');
      } catch (e) {
        const reason = `cannot read its template ${label(u.plan.source)}: ${(e as Error).message}; fix the path, then \`tend reload\``;
        return setProblem(u, { state: 'error', reason, fatal: true });
      }
      try {
        u.tpl = parseConsulTemplate(label(u.plan.source), text, {
          leftDelim: u.plan.leftDelim,
          rightDelim: u.plan.rightDelim,
          errMissingKey: u.plan.errMissingKey,
          functions: u.plan.functions,
        });
      } catch (e) {
        if (!(e instanceof TemplateError)) throw e;
        return setProblem(u, {
          state: 'error',
          reason: `${e.message}; fix the template, then send SIGHUP or \`tend reload\``,
          fatal: true,
        });
      }
    }
    let res: Awaited<ReturnType<typeof resolveTemplate>>;
    try {
      res = await resolveTemplate(u.tpl, dataFor(g), snapshot, {
        missing: u.plan.missing,
        sentinel: u.plan.sentinel,
        env: serviceEnv(g),
        onDeps: (d) => {
          u.deps = { keys: d.keys, prefixes: d.prefixes };
          u.discovery = d.discovery;
        },
      });
    } catch (e) {
      if (closed) return;
      setProblem(u, { state: 'unreachable', reason: `cannot read the KV store: ${(e as Error).message}` });
      return retryLater(u);
    }
    if (closed) return;
    u.retries = 0;
    if (res.status === 'error') return setProblem(u, { state: 'error', reason: res.reason });
    if (res.status === 'incomplete') {
      return setProblem(u, { state: 'incomplete', reason: res.reason, missing: res.missing });
    }
    await commit(u, res.output);
  }

  async function commit(u: TemplateUnit, output: string): Promise<void> {
    const g = u.group;
    const dest = u.plan.destination;
    if (!u.swept) {
      await removeLeftovers(dest);
      u.swept = true;
    }
    // Compared with the file itself, not a copy: a hand-edited destination is put right at the next render.
    if ((await readCurrent(dest)) === output) {
      if (!u.done || u.problem) publish({ action: 'unchanged', service: g.name, destination: dest });
      markDone(u);
      return;
    }
    let staged: Awaited<ReturnType<typeof stage>>;
    try {
      staged = await stage(dest, output, { perms: u.plan.perms });
    } catch (e) {
      return setProblem(u, {
        state: 'error',
        reason: `cannot write ${dest}: ${(e as Error).message}; make its folder writable`,
      });
    }
    if (u.plan.check) {
      const r = await runCommand(
        { kind: 'shell', script: u.plan.check },
        {
          cwd: plan.dir,
          env: {
            ...serviceEnv(g),
            TEND_CHECK_FILE: staged.path,
            TEND_SERVICE: g.name,
            TEND_DESTINATION: dest,
          },
          timeoutMs: CHECK_TIMEOUT_MS,
          signal: abort.signal,
        },
      );
      if (!r.ok || closed) {
        await staged.discard();
        if (closed) return;
        const tail = r.output.trim().split('\n').slice(-3).join(' | ');
        return setProblem(u, {
          state: 'check-failed',
          reason: `check failed (${describeResult(r, CHECK_TIMEOUT_MS)})${tail ? `: ${tail}` : ''}`,
        });
      }
    }
    try {
      await staged.commit();
    } catch (e) {
      return setProblem(u, { state: 'error', reason: `cannot replace ${dest}: ${(e as Error).message}` });
    }
    u.renderedAt = Date.now();
    opts.counters?.rendered?.();
    publish({ action: 'rendered', service: g.name, destination: dest });
    if (u.done) queue(g, u.plan.onChange, u.label);
    markDone(u);
  }

  async function passEnv(u: EnvUnit): Promise<void> {
    const g = u.group;
    try {
      for (let i = 0; i < 8; i++) {
        const want = u.prefixes.filter((p) => snapshot.pairs(p) === undefined);
        if (want.length === 0) break;
        await snapshot.fetch({ keys: [], prefixes: want });
      }
    } catch (e) {
      if (closed) return;
      setProblem(u, { state: 'unreachable', reason: `cannot read the KV store: ${(e as Error).message}` });
      return retryLater(u);
    }
    if (closed) return;
    if (u.prefixes.some((p) => snapshot.pairs(p) === undefined)) return retryLater(u);
    const vars = envFromPairs(u.prefixes.map((prefix) => ({ prefix, pairs: snapshot.pairs(prefix) ?? [] })));
    const unusable = envProblem(vars);
    if (unusable) return setProblem(u, { state: 'error', reason: unusable });
    const same = u.vars !== undefined && JSON.stringify(vars) === JSON.stringify(u.vars);
    if (u.done && same) return markDone(u);
    stack.setEnv(g.name, vars);
    u.vars = vars;
    if (u.done) {
      publish({ action: 'rendered', service: g.name, reason: `${u.label} changed` });
      queue(g, { kind: 'restart' }, u.label);
    }
    markDone(u);
  }

  // ---- actions -----------------------------------------------------------------------------------------

  /** Runs a service's queued actions once none of its units is still rendering or waiting to. */
  const flush = (g: Group) => {
    if (g.actions.size === 0 || closed) return;
    if (g.units.some((u) => u.running || u.quiet !== undefined || u.cap !== undefined)) return;
    const actions = [...g.actions.values()];
    const what = [...g.changed].join(', ');
    g.actions.clear();
    g.changed.clear();
    const r = stack.runner(g.name);
    if (!r) return;
    const m = r.model();
    const live =
      m.state === 'starting' || m.state === 'running' || m.state === 'ready' || m.state === 'unhealthy';
    const restart = actions.some((a) => a.kind === 'restart');
    if (restart && !r.plan.isJob) {
      // a service that failed gets a new chance with the new config; one that is down picks it up when it starts
      if (live || (m.state === 'failed' && m.desired === 'up'))
        stack.restart(g.name, `config changed: ${what}`);
    } else if (live) {
      const sent = new Set<NodeJS.Signals>();
      for (const a of actions)
        if (a.kind === 'signal' && !sent.has(a.signal) && r.signal(a.signal)) sent.add(a.signal);
      if (sent.size > 0) say(`${g.name}: config changed (${what}); sent ${[...sent].join(', ')}`);
    }
    for (const a of actions) if (a.kind === 'exec') void runExec(g, a.command, what);
  };

  const runExec = async (g: Group, command: Command, what: string) => {
    const r = await runCommand(command, {
      cwd: plan.dir,
      env: { ...serviceEnv(g), TEND_SERVICE: g.name },
      timeoutMs: EXEC_TIMEOUT_MS,
      signal: abort.signal,
    });
    if (!r.ok && !r.aborted) {
      const tail = r.output.trim().split('\n').slice(-3).join(' | ');
      const reason = `on_change command for ${what} failed (${describeResult(r, EXEC_TIMEOUT_MS)})${tail ? `: ${tail}` : ''}`;
      say(`${g.name}: ${reason}`);
      publish({ action: 'error', service: g.name, reason });
    }
  };

  // ---- gates and giving up -----------------------------------------------------------------------------

  const refreshGate = (g: Group) => {
    if (closed || stack.runner(g.name) === undefined) return;
    const pending = g.units.filter((u) => !u.done);
    if (pending.length === 0) {
      stack.setGate(g.name, CONFIG_GATE, null);
      clearTimeout(g.failTimer);
      g.failTimer = undefined;
      if (g.failedByConfig) {
        g.failedByConfig = false;
        const m = stack.runner(g.name)?.model();
        if (m?.state === 'failed' && m.desired === 'up') stack.start(g.name, 'config complete');
      }
      return;
    }
    stack.setGate(g.name, CONFIG_GATE, `waiting for config: ${pendingReasons(pending)}`);
    checkFail(g);
  };

  const pendingReasons = (pending: Unit[]) =>
    pending
      .map((u) => {
        const why =
          u.problem?.reason ?? (outage ? `waits for the KV store (${outage.error})` : 'not rendered yet');
        return `${u.label} ${why}`;
      })
      .join('; ');

  const checkFail = (g: Group) => {
    const r = stack.runner(g.name);
    if (closed || !r) return;
    const m = r.model();
    const pending = g.units.filter((u) => !u.done);
    if (m.state !== 'waiting' || m.desired !== 'up' || pending.length === 0 || !settingsOk) {
      if (m.state !== 'waiting') {
        clearTimeout(g.failTimer);
        g.failTimer = undefined;
      }
      return;
    }
    const hard = pending.find(
      (u) =>
        u.problem?.fatal ||
        (u.kind === 'template' &&
          u.plan.missing === 'fail' &&
          u.problem !== undefined &&
          u.problem.state !== 'unreachable'),
    );
    if (hard) return giveUp(g, `config incomplete: ${hard.label} ${hard.problem?.reason}`);
    if (g.failTimer) return;
    const timeouts = g.units
      .filter((u): u is TemplateUnit => u.kind === 'template')
      .map((u) => u.plan.missingTimeoutMs)
      .filter((ms) => ms > 0);
    if (timeouts.length === 0) return;
    const ms = Math.min(...timeouts);
    g.failTimer = setTimeout(() => {
      g.failTimer = undefined;
      const still = g.units.filter((u) => !u.done);
      if (closed || still.length === 0 || stack.runner(g.name)?.model().state !== 'waiting') return;
      giveUp(g, `config still incomplete after ${fmtMs(ms)}: ${pendingReasons(still)}`);
    }, ms);
  };

  const giveUp = (g: Group, reason: string) => {
    clearTimeout(g.failTimer);
    g.failTimer = undefined;
    g.failedByConfig = true;
    const r = stack.runner(g.name);
    if (r?.plan.essential) void opts.shutdown?.(EXIT_INCOMPLETE, `essential service ${g.name}: ${reason}`);
    stack.fail(g.name, reason);
  };

  const unsubscribeBus = bus.subscribe((e) => {
    if (e.kind !== 'service' || closed) return;
    const g = groups.get(e.service);
    if (!g) return;
    // not from inside the runner's own transition: act once it has finished
    queueMicrotask(() => checkFail(g));
  });

  // ---- services ----------------------------------------------------------------------------------------

  const addGroup = (sp: ServicePlan) => {
    const g: Group = {
      name: sp.name,
      plan: sp,
      units: [],
      actions: new Map(),
      changed: new Set(),
      failedByConfig: false,
    };
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
    if (!settingsOk)
      stack.setGate(sp.name, SETTINGS_GATE, `waiting for settings from ${kv.url} ${settingsPrefix}`);
    if (g.units.length === 0) return;
    groups.set(sp.name, g);
    stack.setGate(sp.name, CONFIG_GATE, `waiting for config: ${pendingReasons(g.units)}`);
    for (const u of g.units) run(u);
  };

  const dropGroup = (name: string) => {
    const g = groups.get(name);
    if (!g) return;
    groups.delete(name);
    clearTimeout(g.failTimer);
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
  applySettings();

  return {
    status() {
      const templates: TemplateStatus[] = [];
      const envFrom: EnvFromStatus[] = [];
      const stateOf = (u: Unit): UnitState => u.problem?.state ?? (u.done ? 'rendered' : 'pending');
      for (const g of groups.values()) {
        for (const u of g.units) {
          if (u.kind === 'template') {
            templates.push({
              service: g.name,
              source: u.plan.source,
              destination: u.plan.destination,
              state: stateOf(u),
              reason: u.problem?.reason,
              missing: u.problem?.missing,
              renderedAt: u.renderedAt,
            });
          } else {
            envFrom.push({
              service: g.name,
              prefixes: u.prefixes,
              state: stateOf(u),
              reason: u.problem?.reason,
              names: Object.keys(u.vars ?? {}).sort(),
            });
          }
        }
      }
      return { kv: { url: kv.url, ...kv.status() }, templates, envFrom };
    },
    settingsReady: () => settingsPromise,
    idle() {
      if (!busy()) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    async reloadTemplates() {
      for (const g of groups.values()) {
        for (const u of g.units) {
          if (u.kind === 'template') u.tpl = undefined;
          clearTimers(u);
          run(u);
        }
      }
      await this.idle();
    },
    dependencyChanged(dep) {
      for (const g of groups.values()) {
        for (const u of g.units) if (u.kind === 'template' && u.discovery.includes(dep)) schedule(u);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      abort.abort();
      unsubscribeBus();
      unsubscribeStack();
      unsubscribeStatus();
      clearTimeout(settingsRetry);
      for (const name of [...groups.keys()]) dropGroup(name);
      await watcher?.close();
      // a read stuck on an unreachable store ends with its request timeout: don't hold tend's exit for it
      await Promise.race([Promise.allSettled([...running]), new Promise((r) => setTimeout(r, 1000).unref())]);
      for (const f of idleWaiters.splice(0)) f();
    },
  };
}
