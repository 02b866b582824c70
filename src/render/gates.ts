/**
 * The `config` gate: a service does not start until every unit of it completed once in this run; the gate's
 * reason names what is missing. Once started, a service is never held back again (a key deleted later, a
 * failing check or an outage leave it running on its last good files).
 *
 * Giving up: `missing: fail` (or a template that cannot parse: a template error, said as one) fails a waiting service at once,
 * `missing_timeout` after that long; complete config later starts it. An essential service given up on ends
 * tend with exit code 3.
 */
import type { Bus } from '../events/index.js';
import { isGivenUp, isWaiting, type Stack } from '../supervisor/index.js';
import { formatDuration, setLongTimeout } from '../time/index.js';
import { describeProblem, type Group, type TemplateUnit, type Unit } from './state.js';
import { RENDER_EXIT } from './unit.js';

export const CONFIG_GATE = 'config';

export interface GatesContext {
  stack: Stack;
  bus: Bus;
  groups: Map<string, Group>;
  closed(): boolean;
  /** the settings overlay was applied: until then nothing renders, so nothing is given up on */
  settingsReady(): boolean;
  /** the KV store has been unreachable since, with this error */
  outage(): { since: number; error: string } | undefined;
  shutdown?(code: number, reason: string): unknown;
}

export interface Gates {
  /** opens or closes the service's gate after a pass; starts it again if config had failed it */
  refresh(g: Group): void;
  /** the gate's reason for units not done yet */
  waiting(pending: Unit[]): string;
  /** the gate's reason while templates render again for a discovery change (`dep`) */
  rerendering(units: Unit[], dep: string): string;
  close(): void;
}

export function createGates(ctx: GatesContext): Gates {
  const { stack } = ctx;

  const reasons = (pending: Unit[]) => {
    const outage = ctx.outage();
    const why = (u: Unit) =>
      u.problem
        ? describeProblem(u, u.problem)
        : `${u.label} ${outage ? `waits for the KV store (${outage.error})` : 'not rendered yet'}`;
    return pending.map(why).join('; ');
  };
  const waiting = (pending: Unit[]) => `waiting for config: ${reasons(pending)}`;

  const stopTimer = (g: Group) => {
    g.failTimer?.clear();
    g.failTimer = undefined;
  };

  const refresh = (g: Group) => {
    if (ctx.closed() || stack.runner(g.name) === undefined) return;
    const pending = g.units.filter((u) => !u.done);
    if (pending.length === 0) {
      stack.setGate(g.name, CONFIG_GATE, null);
      stopTimer(g);
      if (g.failedByConfig) {
        g.failedByConfig = false;
        const m = stack.runner(g.name)?.model();
        if (m && isGivenUp(m)) stack.start(g.name, 'config complete');
      }
      return;
    }
    stack.setGate(g.name, CONFIG_GATE, waiting(pending));
    checkFail(g);
  };

  const checkFail = (g: Group) => {
    const r = stack.runner(g.name);
    if (ctx.closed() || !r) return;
    const m = r.model();
    const pending = g.units.filter((u) => !u.done);
    if (!isWaiting(m) || m.desired !== 'up' || pending.length === 0 || !ctx.settingsReady()) {
      if (!isWaiting(m)) stopTimer(g);
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
    if (hard?.problem) {
      // a template error is no missing key: said as itself, so nobody goes looking for keys
      const said = describeProblem(hard, hard.problem);
      return giveUp(g, hard.problem.state === 'template-error' ? said : `config incomplete: ${said}`);
    }
    if (g.failTimer) return;
    const timeouts = g.units
      .filter((u): u is TemplateUnit => u.kind === 'template')
      .map((u) => u.plan.missingTimeoutMs)
      .filter((ms) => ms > 0);
    if (timeouts.length === 0) return;
    const ms = Math.min(...timeouts);
    g.failTimer = setLongTimeout(() => {
      g.failTimer = undefined;
      const still = g.units.filter((u) => !u.done);
      const now = stack.runner(g.name)?.model();
      if (ctx.closed() || still.length === 0 || !now || !isWaiting(now)) return;
      giveUp(g, `config still incomplete after ${formatDuration(ms)}: ${reasons(still)}`);
    }, ms);
  };

  const giveUp = (g: Group, reason: string) => {
    stopTimer(g);
    g.failedByConfig = true;
    const r = stack.runner(g.name);
    if (r?.plan.essential)
      void ctx.shutdown?.(RENDER_EXIT.incomplete, `essential service ${g.name}: ${reason}`);
    stack.fail(g.name, reason);
  };

  // a service that reaches `waiting` (started, or restarted by a reload) may have to be given up on
  const unsubscribe = ctx.bus.subscribe((e) => {
    if (e.kind !== 'service' || ctx.closed()) return;
    const g = ctx.groups.get(e.service);
    if (!g) return;
    // not from inside the runner's own transition: act once it has finished
    queueMicrotask(() => checkFail(g));
  });

  const rerendering = (units: Unit[], dep: string) =>
    `waiting for config: ${units.map((u) => u.label).join(', ')} renders again (${dep} changed)`;

  return { refresh, waiting, rerendering, close: unsubscribe };
}
