/**
 * Decoded manifest → Plan: the defaults that depend on other values, the checks that span services
 * (dependencies, cycles, jobs, --only), and the start order.
 */
import { basename, join } from 'node:path';
import { accountNames, type RunAs, resolveRunAs } from './accounts.js';
import { type Cx, keyPos, mapPos } from './kit.js';
import type { RawManifest, RawService } from './schema.js';
import { didYouMean } from './suggest.js';
import type { LNode, Pos } from './tree.js';
import type { OnChange, Plan, RolloutPlan, ServicePlan } from './types.js';

export interface BuildCx extends Cx {
  warn(pos: Pos, message: string): void;
}

export function buildPlan(
  raw: RawManifest,
  cx: BuildCx,
  opts: { file?: string; only?: string[] },
): Plan | undefined {
  const dir = cx.dir;
  const defined = raw.services;
  const names = defined.map((s) => s.key);
  const byName = new Map(defined.map((s) => [s.key, s]));
  const servicesPos = keyPos(raw, 'services') ?? { line: 1, column: 1 };
  let ok = true;
  const error = (pos: Pos, message: string) => {
    ok = false;
    cx.error(pos, message);
  };

  // --only names services; a name that is not one is a typo that would silently run nothing.
  const only = opts.only && opts.only.length > 0 ? new Set(opts.only) : undefined;
  for (const n of only ?? []) {
    if (!byName.has(n)) error(servicesPos, `unknown service "${n}" in --only${didYouMean(n, names)}`);
  }

  const runAs = new Map<string, RunAs>();
  const owners = new Map<object, { uid?: number; gid?: number }>();
  for (const { key: name, value: s } of defined) {
    const isJob = s.schedule !== undefined;
    const at = (k: string) => keyPos(s, k) ?? mapPos(s) ?? servicesPos;
    if (isJob && s.essential)
      error(at('essential'), `service "${name}" is a job (schedule) and cannot be essential`);
    if (isJob && s.ready)
      error(at('ready'), `service "${name}" is a job (schedule) and cannot have a ready check`);
    if (isJob && s.health)
      error(at('health'), `service "${name}" is a job (schedule) and cannot have a health check`);
    if (isJob && (s.rollout || s.templates.some((t) => t.rollout)))
      error(
        at('rollout'),
        `service "${name}" is a job (schedule) and cannot have a rollout: a job reads its files at each run, nothing is restarted`,
      );
    if (s.user !== undefined) {
      const r = resolveRunAs(s.user);
      if ('error' in r) {
        const word = /^no group/.test(r.error) ? 'group' : 'user';
        const missing = /"([^"]+)"/.exec(r.error)?.[1] ?? '';
        error(at('user'), `service "${name}": user: ${r.error}${didYouMean(missing, accountNames(word))}`);
      } else runAs.set(name, r);
    }
    s.templates.forEach((t, i) => {
      const ids = templateOwner(
        t,
        `services.${name}.templates[${i}]`,
        (k) => keyPos(t, k) ?? at('templates'),
        error,
      );
      if (ids) owners.set(t, ids);
    });
  }
  checkAfter(
    defined.map((d) => ({ key: d.key, after: d.value.after })),
    error,
  );

  const enabled = new Set<string>();
  for (const { key: name, value: s } of defined) {
    if (only ? only.has(name) : s.enabled) enabled.add(name);
    if (only?.has(name) && !s.enabled) {
      cx.warn(
        keyPos(s, 'enabled') ?? mapPos(s) ?? servicesPos,
        `service "${name}" has enabled: false but --only names it; it runs`,
      );
    }
  }
  if (enabled.size === 0 && ok) cx.warn(servicesPos, 'no service is enabled');

  // Two templates writing one file would overwrite each other on every render. Only enabled services count:
  // roles of one image may well render the same file differently.
  const writers = new Map<string, string>();
  for (const { key: name, value: s } of defined) {
    if (!enabled.has(name)) continue;
    s.templates.forEach((t, i) => {
      const here = `services.${name}.templates[${i}]`;
      const other = writers.get(t.destination);
      if (other) {
        error(
          keyPos(t, 'destination') ?? mapPos(t) ?? servicesPos,
          `${here}.destination: ${t.destination} is also written by ${other}`,
        );
      } else writers.set(t.destination, here);
    });
  }

  const after = new Map<string, string[]>();
  for (const { key: name, value: s } of defined) {
    if (!enabled.has(name)) continue;
    const deps: string[] = [];
    for (const dep of s.after) {
      if (deps.includes(dep.value) || dep.value === name || !byName.has(dep.value)) continue;
      if (enabled.has(dep.value)) deps.push(dep.value);
      else {
        // One image, many roles: the dependency runs in another container, so it is not waited for here.
        cx.warn(
          dep.pos,
          `service "${name}": "after" names disabled service "${dep.value}"; not waiting for it`,
        );
      }
    }
    after.set(name, deps);
  }
  if (!ok) return undefined;

  const stateDir = raw.state_dir;
  const order = startOrder(
    names.filter((n) => enabled.has(n)),
    after,
  );
  const services: Record<string, ServicePlan> = {};
  for (const name of order)
    services[name] = servicePlan(
      name,
      byName.get(name)!.value,
      after.get(name)!,
      dir,
      stateDir,
      runAs.get(name),
      raw.settings.on_change,
      owners,
      opts.file ?? 'tend.yaml',
    );

  const stages: Plan['stages'] = {};
  for (const k of ['boot', 'firstboot', 'upgrade', 'warmup', 'monitor'] as const) {
    const st = raw.stages[k];
    if (st) Object.assign(stages, { [k]: st });
  }
  const d = raw.settings.defaults;
  return compact({
    file: opts.file,
    dir,
    name: raw.name ?? (basename(dir) || 'tend'),
    dataDir: raw.data_dir,
    stateDir,
    http: raw.http,
    kv: raw.kv,
    settings: {
      defaults: d && 'inline' in d ? d.inline : {},
      defaultsFile: d && 'file' in d ? d.file : undefined,
      files: raw.settings.files,
      schemaFile: raw.settings.schema,
      env: raw.settings.env,
      kvPrefix: raw.settings.kv_prefix,
      onChange: raw.settings.on_change,
    },
    stages,
    notify: raw.notify,
    services,
    disabled: names.filter((n) => !enabled.has(n)),
    order,
  });
}

function servicePlan(
  name: string,
  s: RawService,
  after: string[],
  dir: string,
  stateDir: string,
  runAs: RunAs | undefined,
  settingsOnChange: OnChange,
  owners: Map<object, { uid?: number; gid?: number }>,
  file: string,
): ServicePlan {
  const rolloutPlan = (r: NonNullable<RawService['rollout']>, pos: Pos | undefined): RolloutPlan => ({
    maxParallel: r.max_parallel,
    readyTimeoutMs: r.ready_timeout,
    at: `${file}:${pos?.line ?? 1}:${pos?.column ?? 1}`,
  });
  const isJob = s.schedule !== undefined;
  const logFile = s.logs.file === false ? undefined : (s.logs.file ?? join(stateDir, 'logs', `${name}.log`));
  return {
    name,
    isJob,
    command: s.command,
    cwd: s.cwd ?? dir,
    env: s.env,
    envFrom: s.env_from,
    after,
    requires: [...new Set(s.requires.map((r) => r.value))],
    requiresTimeoutMs: s.requires_timeout,
    templates: s.templates.map((t) => ({
      source: t.source,
      destination: t.destination,
      perms: t.perms,
      ...(t.user !== undefined ? { user: t.user, uid: owners.get(t)?.uid } : {}),
      ...(t.group !== undefined ? { group: t.group, gid: owners.get(t)?.gid } : {}),
      ...(runAs ? { readerGid: runAs.gid } : {}),
      // A job is never restarted by a template change (seed 000's cron-config): it reads its files per run.
      onChange: t.on_change ?? (isJob ? { kind: 'none' } : { kind: 'restart' }),
      wait: t.wait,
      missing: t.missing,
      missingTimeoutMs: t.missing_timeout,
      sentinel: t.sentinel,
      check: t.check,
      leftDelim: t.left_delimiter,
      rightDelim: t.right_delimiter,
      errMissingKey: t.err_missing_key,
      functions: { allow: t.functions.allow, deny: t.functions.deny },
      ...(t.rollout ? { rollout: rolloutPlan(t.rollout, keyPos(t, 'rollout')) } : {}),
    })),
    ready: s.ready,
    health: s.health,
    restart: {
      policy: s.restart.policy ?? (isJob ? 'never' : 'always'),
      backoff: s.restart.backoff,
      maxFailures: s.restart.max_failures,
      minUptimeMs: s.restart.min_uptime,
      windowMs: s.restart.window,
      cooldownMs: s.restart.cooldown,
      resetAfterMs: s.restart.reset_after,
      preventExitCodes: [...new Set(s.restart.prevent_exit_codes)],
      successExitCodes: [...new Set(s.restart.success_exit_codes)],
      ...(s.restart.overlap !== false ? { overlapMs: s.restart.overlap } : {}),
    },
    stop: { signal: s.stop.signal, timeoutMs: s.stop.timeout },
    reloadSignal: s.reload_signal,
    ...(s.rollout ? { rollout: rolloutPlan(s.rollout, keyPos(s, 'rollout')) } : {}),
    // A job reads the settings file at each run: nothing to restart (as with templates).
    settingsOnChange: s.on_settings_change ?? (isJob ? { kind: 'none' } : settingsOnChange),
    signalGroup: s.signal_group,
    forwardSignals: [...new Set(s.signals)],
    register: s.register && {
      name: s.register.name ?? name,
      port: s.register.port,
      address: s.register.address,
      tags: s.register.tags,
      meta: s.register.meta,
      ttlMs: s.register.ttl,
    },
    finish: s.finish,
    finishTimeoutMs: s.finish_timeout,
    logs: {
      file: logFile,
      format: s.logs.format,
      timestamps: s.logs.timestamps ?? s.logs.format === 'json',
      maxSizeBytes: s.logs.max_size,
      keep: s.logs.keep,
      mode: s.logs.mode,
      stdout: s.logs.stdout,
    },
    essential: s.essential,
    schedule: s.schedule,
    user: s.user,
    runAs,
    listen: s.listen.map((l) => ({
      address: l.address.text,
      bind: l.address.bind,
      name: l.name ?? name,
      backlog: l.backlog,
      mode: l.mode,
    })),
  };
}

/** Each service in the order written, with the names its `after` lists where they are written. */
export type AfterGraph = Array<{ key: string; after: Array<{ value: string; pos: Pos }> }>;

/** `after` naming the service itself, an unknown service, or closing a cycle. */
export function checkAfter(graph: AfterGraph, error: (pos: Pos, message: string) => void): void {
  const names = graph.map((s) => s.key);
  const known = new Set(names);
  for (const { key: name, after } of graph) {
    for (const dep of after) {
      if (dep.value === name) error(dep.pos, `service "${name}" lists itself in "after"`);
      else if (!known.has(dep.value)) {
        error(
          dep.pos,
          `service "${name}": "after" names unknown service "${dep.value}"${didYouMean(dep.value, names)}`,
        );
      }
    }
  }
  for (const c of cycles(graph)) error(c.pos, `cycle in "after": ${c.names.join(' → ')}`);
}

/**
 * The `after` graph read straight from the located tree, for a manifest that did not decode: its mistakes
 * in `after` are then listed with the others in one pass instead of only once the rest is fixed.
 */
export function afterGraphOfTree(root: LNode): AfterGraph | undefined {
  if (root.t !== 'map') return undefined;
  const services = root.entries.find((e) => e.key === 'services')?.value;
  if (services?.t !== 'map') return undefined;
  return services.entries.map(({ key, value }) => {
    const list = value.t === 'map' ? value.entries.find((e) => e.key === 'after')?.value : undefined;
    const after: Array<{ value: string; pos: Pos }> = [];
    for (const item of list?.t === 'seq' ? list.items : []) {
      if (item.t === 'scalar' && typeof item.value === 'string' && !item.broken)
        after.push({ value: item.value, pos: item.pos });
    }
    return { key, after };
  });
}

/** Each cycle of `after` once, starting at the service written first, located at that service's edge. */
function cycles(defined: AfterGraph): Array<{ names: string[]; pos: Pos }> {
  const index = new Map(defined.map((s, i) => [s.key, i]));
  const edges = new Map(
    defined.map((s) => [s.key, s.after.filter((d) => index.has(d.value) && d.value !== s.key)]),
  );
  const out: Array<{ names: string[]; pos: Pos }> = [];
  const seen = new Set<string>();
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, 'open');
    stack.push(n);
    for (const dep of edges.get(n) ?? []) {
      const st = state.get(dep.value);
      if (st === 'open') {
        const loop = stack.slice(stack.indexOf(dep.value));
        // Rotate so the cycle starts at the service written first: the same cycle always reads the same way.
        const first = loop.reduce((a, b) => (index.get(a)! <= index.get(b)! ? a : b));
        const names = [...loop.slice(loop.indexOf(first)), ...loop.slice(0, loop.indexOf(first))];
        const id = names.join('\0');
        if (!seen.has(id)) {
          seen.add(id);
          const next = names[1] ?? names[0];
          const pos = edges.get(first)!.find((d) => d.value === next)!.pos;
          out.push({ names: [...names, first], pos });
        }
      } else if (st === undefined) visit(dep.value);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const s of defined) if (!state.has(s.key)) visit(s.key);
  return out;
}

/** Topological order; among services free to start, the one written first goes first. */
function startOrder(names: string[], after: Map<string, string[]>): string[] {
  const placed = new Set<string>();
  const order: string[] = [];
  while (order.length < names.length) {
    const next = names.find((n) => !placed.has(n) && (after.get(n) ?? []).every((d) => placed.has(d)));
    if (next === undefined) break; // a cycle, already reported
    placed.add(next);
    order.push(next);
  }
  return order;
}

/** Drops keys holding undefined, deeply, so the Plan has only the optional fields that are set. */
export function compact<T>(v: T): T {
  if (Array.isArray(v)) return v.map(compact) as T;
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = compact(x);
    return out as T;
  }
  return v;
}

/**
 * A template's `user` and `group` (consul-template's: a name or an id each, set apart), resolved against the
 * account database like a service's `user:`, so that `tend check` names an unknown one with its position.
 */
function templateOwner(
  t: { user?: string; group?: string },
  here: string,
  at: (key: string) => Pos,
  error: (pos: Pos, message: string) => void,
): { uid?: number; gid?: number } | undefined {
  const out: { uid?: number; gid?: number } = {};
  let ok = true;
  if (t.user !== undefined) {
    const r = t.user.includes(':')
      ? { error: `"${t.user}" is a user name or uid; give the group as group:` }
      : resolveRunAs(t.user);
    if ('error' in r) {
      const missing = /"([^"]+)"/.exec(r.error)?.[1] ?? '';
      error(
        at('user'),
        `${here}.user: ${r.error}${t.user.includes(':') ? '' : didYouMean(missing, accountNames('user'))}`,
      );
      ok = false;
    } else out.uid = r.uid;
  }
  if (t.group !== undefined) {
    const r = t.group.includes(':')
      ? { error: `"${t.group}" is a group name or gid` }
      : resolveRunAs(`0:${t.group}`);
    if ('error' in r) {
      const missing = /"([^"]+)"/.exec(r.error)?.[1] ?? '';
      error(
        at('group'),
        `${here}.group: ${r.error}${t.group.includes(':') ? '' : didYouMean(missing, accountNames('group'))}`,
      );
      ok = false;
    } else out.gid = r.gid;
  }
  return ok ? out : undefined;
}
