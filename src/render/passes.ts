/**
 * One pass of a unit: a template (load, resolve against the snapshot, the checked commit of ./unit.ts) or an
 * env_from unit (the prefixes' pairs → variables handed to the stack). A pass records its problem (an event,
 * and a `tend | …` line once the service runs on its last good config) or marks the unit done, and queues the
 * service's `on_change` when a unit that was done changes. The loop (./loop.ts) decides when passes run.
 */
import type { ConfigEvent } from '../events/index.js';
import type { Plan } from '../manifest/types.js';
import type { Stack } from '../supervisor/index.js';
import { queueAction } from './actions.js';
import { envFromPairs, envProblem } from './envfrom.js';
import { resolveTemplate } from './resolve.js';
import { isUnitCurrent, type Rollouts } from './rollout.js';
import type { Snapshot } from './snapshot.js';
import {
  describeProblem,
  type EnvUnit,
  type Group,
  type Problem,
  type TemplateUnit,
  type Unit,
} from './state.js';
import { commitChecked, loadTemplate, templateData, templateEnv, templateErrorText } from './unit.js';

const FIX_TEMPLATE = 'fix the template, then send SIGHUP or `tend reload`';
const FIX_TEMPLATE_OR_DATA = 'fix the template (then SIGHUP or `tend reload`) or the data it reads';

export interface PassContext {
  plan: Plan;
  stack: Stack;
  snapshot: Snapshot;
  /** tend's environment (what a template's `.Env` and `env` start from) */
  env: NodeJS.ProcessEnv;
  settings(): Record<string, unknown>;
  /** the environment of the service's children (its check) */
  childEnv(g: Group): Record<string, string | undefined>;
  label(path: string): string;
  closed(): boolean;
  /** tend is stopping: a running check is killed */
  signal: AbortSignal;
  say(text: string): void;
  publish(e: Omit<ConfigEvent, 'kind' | 'time' | 'seq'>): void;
  /** the store did not answer: run the unit again after a backoff */
  retryLater(u: Unit): void;
  /** a file went live */
  rendered?(): void;
  /** changes of services with `rollout:` (./rollout.ts); without it every change is written at once */
  rollouts?: Rollouts;
}

export interface Passes {
  template(u: TemplateUnit): Promise<void>;
  env(u: EnvUnit): Promise<void>;
  setProblem(u: Unit, p: Problem): void;
}

export function createPasses(ctx: PassContext): Passes {
  const { plan, stack, snapshot, label, say, publish, retryLater } = ctx;

  const problemEvent: Record<Problem['state'], ConfigEvent['action'] | undefined> = {
    incomplete: 'missing',
    'template-error': 'template-error',
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
      reason: describeProblem(u, p),
      missing: p.missing,
    });
    if (u.done) say(`${u.group.name}: ${describeProblem(u, p)}; the service keeps its last good config`);
  };

  const markDone = (u: Unit) => {
    u.problem = undefined;
    u.done = true;
    u.retries = 0;
  };

  async function passTemplate(u: TemplateUnit): Promise<void> {
    const g = u.group;
    if (!u.tpl) {
      const loaded = await loadTemplate(u.plan, label(u.plan.source));
      if (!loaded.ok) {
        if (loaded.cause === 'read') {
          const reason = `cannot read its template ${label(u.plan.source)}: ${loaded.message}; fix the path, then \`tend reload\``;
          return setProblem(u, { state: 'error', reason, fatal: true });
        }
        const reason = `${templateErrorText(loaded.message, label(u.plan.source))}; ${FIX_TEMPLATE}`;
        return setProblem(u, { state: 'template-error', reason, fatal: true });
      }
      u.tpl = loaded.tpl;
    }
    const env = templateEnv(ctx.env, g.plan);
    let res: Awaited<ReturnType<typeof resolveTemplate>>;
    try {
      res = await resolveTemplate(u.tpl, templateData(plan, g.plan, ctx.settings(), env), snapshot, {
        missing: u.plan.missing,
        sentinel: u.plan.sentinel,
        env,
        onDeps: (d) => {
          u.deps = { keys: d.keys, prefixes: d.prefixes };
          u.discovery = d.discovery;
        },
      });
    } catch (e) {
      if (ctx.closed()) return;
      setProblem(u, { state: 'unreachable', reason: `cannot read the KV store: ${(e as Error).message}` });
      return retryLater(u);
    }
    if (ctx.closed()) return;
    u.retries = 0;
    // the template's own execution error: it may depend on a value (a key that is not JSON), so not fatal
    if (res.status === 'error') {
      const reason = `${templateErrorText(res.reason, label(u.plan.source))}; ${FIX_TEMPLATE_OR_DATA}`;
      return setProblem(u, { state: 'template-error', reason });
    }
    if (res.status === 'incomplete') {
      return setProblem(u, { state: 'incomplete', reason: res.reason, missing: res.missing });
    }
    const rollouts = ctx.rollouts;
    if (rollouts?.governs(u)) {
      // a service with `rollout:`: the new output goes live through the fleet's rollout, not now
      if (await isUnitCurrent(u, res.output)) {
        rollouts.drop(u);
        publish({ action: 'unchanged', service: g.name, destination: u.plan.destination });
      } else rollouts.hold(u, res.output);
      return markDone(u);
    }
    rollouts?.drop(u);
    const c = await commitChecked(u.plan, res.output, {
      env: ctx.childEnv(g),
      service: g.name,
      cwd: plan.dir,
      user: g.plan.runAs,
      sweep: !u.swept,
      signal: ctx.signal,
      note: (line) => stack.log(g.name)?.note(line),
    });
    u.swept = true;
    if (ctx.closed()) return;
    const dest = u.plan.destination;
    switch (c.status) {
      case 'unchanged':
        publish({ action: 'unchanged', service: g.name, destination: dest });
        return markDone(u);
      case 'rendered':
        u.renderedAt = Date.now();
        ctx.rendered?.();
        publish({ action: 'rendered', service: g.name, destination: dest });
        if (u.done) queueAction(g.batch, u.plan.onChange, g.plan.reloadSignal, u.label);
        return markDone(u);
      case 'check-failed':
      case 'error':
        return setProblem(u, { state: c.status, reason: c.reason });
      case 'aborted':
        return;
      default: {
        const never: never = c;
        throw new Error(`unhandled commit ${JSON.stringify(never)}`);
      }
    }
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
      if (ctx.closed()) return;
      setProblem(u, { state: 'unreachable', reason: `cannot read the KV store: ${(e as Error).message}` });
      return retryLater(u);
    }
    if (ctx.closed()) return;
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
      // a process reads its environment once: only a restart hands it the new one
      queueAction(g.batch, { kind: 'restart' }, g.plan.reloadSignal, u.label);
    }
    markDone(u);
  }

  return { template: passTemplate, env: passEnv, setProblem };
}
