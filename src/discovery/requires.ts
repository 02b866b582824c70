/**
 * `requires`: a service is held `waiting` (one gate per required service, its reason naming it) until discovery
 * lists at least one passing instance of each. Gates follow discovery for as long as tend runs: an upstream
 * that vanishes closes its gate again, which holds the next start (a restart waits), never a running process.
 * With `requires_timeout`, a service still waiting that long after its gates closed is `failed`.
 */

import type { ServicePlan } from '../manifest/types.js';
import { isWaiting, type Stack } from '../supervisor/index.js';
import { formatDuration, type LongTimer, setLongTimeout } from '../time/index.js';
import type { Discovery } from './discovery.js';
import type { Watch } from './types.js';

export const gateId = (required: string) => `requires:${required}`;

export function waitingReason(required: string, where: string): string {
  return `waiting for ${required} in discovery (${where})`;
}

export function gateRequires(stack: Stack, discovery: Discovery, sp: ServicePlan): Watch {
  const closedGates = new Set<string>();
  /** per required service, a count of the lists seen: a deferred opening is dropped if a newer list came */
  const generation = new Map<string, number>();
  const watches: Watch[] = [];
  let timer: LongTimer | undefined;
  let closed = false;

  const armTimeout = () => {
    if (sp.requiresTimeoutMs <= 0) return;
    if (closedGates.size === 0) {
      timer?.clear();
      timer = undefined;
      return;
    }
    if (timer) return;
    // requires_timeout is a user's duration: a long timer (setTimeout fires at once past 24.8 days)
    timer = setLongTimeout(() => {
      timer = undefined;
      if (closed || closedGates.size === 0) return;
      const m = stack.runner(sp.name)?.model();
      if (!m || !isWaiting(m)) return;
      const names = [...closedGates].join(', ');
      stack.fail(
        sp.name,
        `no healthy instance of ${names} in discovery within ${formatDuration(sp.requiresTimeoutMs)} (requires_timeout); start it again once ${names} is registered`,
      );
    }, sp.requiresTimeoutMs);
  };

  for (const required of new Set(sp.requires)) {
    closedGates.add(required);
    stack.setGate(sp.name, gateId(required), waitingReason(required, discovery.where));
  }
  armTimeout();
  for (const required of new Set(sp.requires)) {
    watches.push(
      discovery.watch(
        required,
        (list) => {
          if (closed) return;
          const seen = (generation.get(required) ?? 0) + 1;
          generation.set(required, seen);
          if (list.length === 0) {
            closedGates.add(required);
            stack.setGate(sp.name, gateId(required), waitingReason(required, discovery.where));
            armTimeout();
            return;
          }
          // Opens once every other reader of this same discovery change has heard it (discovery fans a change
          // out synchronously): the render loop closes the service's config gate while a template that reads
          // this service renders again, so the service starts once, on the new file, rather than on the stale
          // one and then again for "config changed".
          queueMicrotask(() => {
            if (closed || generation.get(required) !== seen) return;
            closedGates.delete(required);
            stack.setGate(sp.name, gateId(required), null);
            armTimeout();
          });
        },
        { passingOnly: true },
      ),
    );
  }
  return {
    close() {
      closed = true;
      timer?.clear();
      for (const w of watches) w.close();
    },
  };
}
