/**
 * Changes of services with `rollout:` (docs/fleet.md). Such a template's new output is not written by its pass:
 * it is held here, and once the service's units are settled the held outputs go to `rt.rollout` as one change
 * (the fleet module takes a slot, calls `apply`, waits for ready, calls `revert` on a timeout). This module never
 * imports the fleet: the two meet through the hook the Runtime carries (src/app/run.ts wires it).
 *
 * Held only when it matters: the template was rendered before in this run (the service may run on it), its
 * `on_change` restarts, reloads or signals, and the service is serving. Otherwise the file is written as always.
 * A newer output of a held template supersedes a change still waiting for its slot (the same output rendered
 * again does not: the change keeps its place in the queue); an output equal to the file drops what was held. Content that failed (here or on another tend) is remembered: rendered again, it is not
 * rolled again until something newer comes.
 */
import { createHash } from 'node:crypto';
import type { ConfigEvent } from '../events/index.js';
import type { Plan, RolloutPlan } from '../manifest/types.js';
import { runCommand } from '../procs/index.js';
import type { RolloutChange, RolloutOutcome } from '../runtime/index.js';
import { isServing, type Stack } from '../supervisor/index.js';
import { emptyBatch, queueAction, takeBatch } from './actions.js';
import type { Group, TemplateUnit } from './state.js';
import { commandLine, commitChecked, describeEnd, fileRights, outputTail } from './unit.js';
import { isCurrent, readCurrent, stage } from './write.js';

const EXEC_TIMEOUT_MS = 60_000;

export type RolloutHook = (change: RolloutChange) => Promise<RolloutOutcome>;

export interface RolloutContext {
  hook: RolloutHook;
  plan: Plan;
  stack: Stack;
  childEnv(g: Group): Record<string, string | undefined>;
  signal: AbortSignal;
  closed(): boolean;
  say(text: string): void;
  publish(e: Omit<ConfigEvent, 'kind' | 'time' | 'seq'>): void;
  /** a file went live */
  rendered?(): void;
  /** a rollout ended: the loop may be idle now */
  settled(): void;
}

interface GroupRollout {
  /** per unit, the output wanted live and not yet rolled (the newest render that differs from the file) */
  held: Map<TemplateUnit, string>;
  /** the outputs of the change in flight */
  inFlight?: Map<TemplateUnit, string>;
  /** the change in flight and its abort (a newer output supersedes it while it waits) */
  current?: AbortController;
  /** content hashes that failed (here or elsewhere): not rolled again */
  failed: Set<string>;
}

export interface Rollouts {
  /** whether this unit's new output must be held for a rollout rather than written */
  governs(u: TemplateUnit): boolean;
  /** holds `output` (differing from the file) for the unit's next rollout */
  hold(u: TemplateUnit, output: string): void;
  /** the unit's output equals its file again: whatever was held for it is dropped */
  drop(u: TemplateUnit): void;
  /** the group is settled: roll what is held */
  flush(g: Group): void;
  /** a rollout of the group is in flight or held */
  busy(g: Group): boolean;
}

const sha = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/** the unit's rollout: its own, else its service's */
const rolloutOf = (u: TemplateUnit): RolloutPlan | undefined => u.plan.rollout ?? u.group.plan.rollout;

export function createRollouts(ctx: RolloutContext): Rollouts {
  const { stack } = ctx;
  const state = new Map<Group, GroupRollout>();
  const of = (g: Group): GroupRollout => {
    let s = state.get(g);
    if (!s) {
      s = { held: new Map(), failed: new Set() };
      state.set(g, s);
    }
    return s;
  };

  const governs = (u: TemplateUnit) => {
    if (!rolloutOf(u) || !u.done) return false;
    const k = u.plan.onChange.kind;
    if (k !== 'restart' && k !== 'reload' && k !== 'signal') return false;
    const s = stack.status().find((x) => x.name === u.group.name);
    return s !== undefined && isServing(s);
  };

  /** one change of the held outputs: its hash (the one file's, or of every file's name and hash) */
  const changeOf = (outputs: Map<TemplateUnit, string>) => {
    const units = [...outputs.keys()].sort((a, b) => a.label.localeCompare(b.label));
    const hashes = units.map((u) => sha(outputs.get(u) ?? ''));
    const hash =
      units.length === 1
        ? (hashes[0] ?? '')
        : sha(units.map((u, i) => `${u.label}\0${hashes[i]}\n`).join(''));
    const plans = units.map(rolloutOf).filter((r): r is RolloutPlan => r !== undefined);
    return {
      hash,
      what: units.map((u) => u.label).join(', '),
      // several templates with their own rollout in one change: the strictest of them
      maxParallel: Math.min(...plans.map((r) => r.maxParallel)),
      readyTimeoutMs: Math.max(...plans.map((r) => r.readyTimeoutMs)),
    };
  };

  const runExec = async (g: Group, command: Parameters<typeof commandLine>[0], what: string) => {
    const r = await runCommand(commandLine(command), {
      cwd: ctx.plan.dir,
      env: ctx.childEnv(g),
      uid: g.plan.runAs?.uid,
      gid: g.plan.runAs?.gid,
      groups: g.plan.runAs?.groups,
      timeoutMs: EXEC_TIMEOUT_MS,
      signal: ctx.signal,
    });
    if (!r.ok && !r.aborted) {
      const reason = `on_change command for ${what} failed (${describeEnd(r, EXEC_TIMEOUT_MS)})${outputTail(r.output)}`;
      ctx.say(`${g.name}: ${reason}`);
      ctx.publish({ action: 'error', service: g.name, reason });
    }
  };

  const roll = async (g: Group, gs: GroupRollout) => {
    while (gs.held.size > 0 && !ctx.closed()) {
      const outputs = new Map(gs.held);
      /** what was rolled is no longer wanted, unless a newer output came for its unit meanwhile */
      const settle = () => {
        for (const [u, out] of outputs) if (gs.held.get(u) === out) gs.held.delete(u);
      };
      const c = changeOf(outputs);
      if (gs.failed.has(c.hash)) {
        settle(); // failed before: kept out until something newer comes
        continue;
      }
      const previous = new Map<TemplateUnit, string | undefined>();
      const ac = new AbortController();
      gs.current = ac;
      gs.inFlight = outputs;
      let outcome: RolloutOutcome;
      try {
        outcome = await ctx.hook({
          service: g.name,
          ...c,
          signal: ac.signal,
          async apply() {
            const live: TemplateUnit[] = [];
            for (const [u, out] of outputs) {
              previous.set(u, await readCurrent(u.plan.destination));
              const r = await commitChecked(u.plan, out, {
                env: ctx.childEnv(g),
                service: g.name,
                cwd: ctx.plan.dir,
                user: g.plan.runAs,
                signal: ctx.signal,
                note: (line) => stack.log(g.name)?.note(line),
              });
              const dest = u.plan.destination;
              if (r.status === 'rendered') {
                u.renderedAt = Date.now();
                ctx.rendered?.();
                ctx.publish({ action: 'rendered', service: g.name, destination: dest });
                live.push(u);
              } else if (r.status === 'check-failed' || r.status === 'error') {
                ctx.publish({ action: r.status, service: g.name, destination: dest, reason: r.reason });
                ctx.say(`${g.name}: ${u.label} ${r.reason}; the service keeps its last good config`);
              }
            }
            const batch = emptyBatch();
            for (const u of live) queueAction(batch, u.plan.onChange, g.plan.reloadSignal, u.label);
            const todo = takeBatch(batch);
            if (!todo) return { applied: false, restart: false };
            const did = stack.configChanged(g.name, todo, `config changed: ${todo.what} (rollout)`);
            if (did.did === 'signalled')
              ctx.say(`${g.name}: config changed (${todo.what}); sent ${did.signals.join(', ')}`);
            for (const command of todo.execs) void runExec(g, command, todo.what);
            return { applied: true, restart: did.did !== 'signalled' };
          },
          async revert() {
            for (const [u, before] of previous) {
              if (before === undefined) continue;
              const staged = await stage(u.plan.destination, before, fileRights(u.plan));
              await staged.commit();
              u.renderedAt = Date.now();
              ctx.publish({
                action: 'rendered',
                service: g.name,
                destination: u.plan.destination,
                reason: 'rolled back to the previous config (rollout)',
              });
            }
            stack.configChanged(
              g.name,
              { restart: true, signals: [] },
              `config rolled back: ${c.what} (rollout)`,
            );
          },
        });
      } catch (e) {
        ctx.publish({ action: 'error', service: g.name, reason: `rollout: ${(e as Error).message}` });
        outcome = 'not-applied';
      } finally {
        if (gs.current === ac) {
          gs.current = undefined;
          gs.inFlight = undefined;
        }
      }
      switch (outcome) {
        case 'superseded':
          // `held` has what is wanted now: the next turn of the loop rolls it
          break;
        case 'failed':
        case 'skipped':
          gs.failed.add(c.hash);
          settle();
          break;
        case 'applied':
        case 'not-applied':
        case 'closed':
          settle();
          break;
        default: {
          const never: never = outcome;
          throw new Error(`unhandled rollout outcome ${String(never)}`);
        }
      }
    }
  };

  const running = new Map<Group, Promise<void>>();

  return {
    governs,
    hold(u, output) {
      const gs = of(u.group);
      gs.held.set(u, output);
      // a change still waiting for its slot gives way to a newer one (rendered again the same, it keeps its place)
      if (gs.inFlight && gs.inFlight.get(u) !== output) gs.current?.abort();
    },
    drop(u) {
      const gs = state.get(u.group);
      if (!gs) return;
      gs.held.delete(u);
      // back to the file it has: a change of it still waiting for a slot is moot
      if (gs.inFlight?.has(u)) gs.current?.abort();
    },
    flush(g) {
      const gs = state.get(g);
      if (!gs || gs.held.size === 0 || running.has(g)) return;
      const p = roll(g, gs)
        .catch((e: Error) =>
          ctx.publish({ action: 'error', service: g.name, reason: `rollout: ${e.message}` }),
        )
        .finally(() => {
          running.delete(g);
          ctx.settled();
        });
      running.set(g, p);
    },
    busy: (g) => running.has(g) || (state.get(g)?.held.size ?? 0) > 0,
  };
}

/** Whether `output` is already the unit's file (bytes, mode and owner). */
export const isUnitCurrent = (u: TemplateUnit, output: string) =>
  isCurrent(u.plan.destination, output, fileRights(u.plan));
