/**
 * Reload (like `supervisorctl update`): the difference between two Plans, and applying it to a running Stack.
 * A service counts as changed when any field of its ServicePlan differs; everything else about a running
 * service (its process, its restart count) is left alone.
 */
import type { Plan, ServicePlan } from '../manifest/types.js';
import type { Stack } from './stack.js';

export interface PlanDiff {
  /** in the new plan's start order */
  added: string[];
  removed: string[];
  /** in the new plan's start order */
  changed: string[];
  unchanged: string[];
  /** top-level manifest keys whose change a reload does not apply (tend must be restarted for them) */
  ignored: string[];
}

/** Keys of the Plan that describe services; the rest is read once at start-up. */
const SERVICE_KEYS = new Set(['services', 'order', 'disabled', 'file', 'dir']);

export function planDiff(old: Plan, next: Plan): PlanDiff {
  const added: string[] = [];
  const changed: string[] = [];
  const unchanged: string[] = [];
  for (const name of next.order) {
    const before = old.services[name];
    if (!before) added.push(name);
    else if (deepEqual(before, next.services[name])) unchanged.push(name);
    else changed.push(name);
  }
  const removed = old.order.filter((name) => !next.services[name]);
  const a = old as unknown as Record<string, unknown>;
  const b = next as unknown as Record<string, unknown>;
  const ignored = [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => !SERVICE_KEYS.has(k) && !deepEqual(a[k], b[k]))
    .sort();
  return { added, removed, changed, unchanged, ignored };
}

/**
 * Applies `diff` (computed from the stack's current services to `next`): removed services stop (dependants
 * first), changed ones are replaced by a fresh runner with the new definition and started, added ones are
 * started (unless `start` is false: SIGHUP reloads while the app restarts, and the lifecycle starts everything
 * afterwards). Resolves once removed and changed services have stopped; starting is left to the stack's gates.
 */
export async function applyPlanDiff(
  stack: Stack,
  next: Plan,
  diff: PlanDiff,
  opts: { start?: boolean } = {},
): Promise<void> {
  const reason = 'manifest reloaded';
  const dependantsFirst = (names: string[]) => {
    const order = stack.names();
    return [...names].sort((a, b) => order.indexOf(b) - order.indexOf(a));
  };
  // New sockets first: a port that cannot be bound refuses the reload before anything has stopped.
  stack.reserveSockets([...diff.added, ...diff.changed].map((name) => next.services[name]));
  // A changed service gets a new runner rather than a new plan on the old one: its environment, log file and
  // hooks were all derived from the old definition when the runner was created.
  for (const name of dependantsFirst([...diff.removed, ...diff.changed])) {
    if (diff.changed.includes(name)) await stack.stop(name, 'changed in the manifest; restarting');
    await stack.removeService(name);
  }
  for (const name of next.order) {
    if (!diff.added.includes(name) && !diff.changed.includes(name)) continue;
    const sp: ServicePlan = next.services[name];
    stack.addService(sp);
    if (opts.start !== false && !sp.isJob) stack.start(name, reason);
  }
  // only now: a changed service that still lists an address has taken its socket over, unclosed
  stack.releaseSockets();
}

/** Structural equality of plain data (what a Plan is made of: objects, arrays, strings, numbers, booleans). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return Number.isNaN(a) && Number.isNaN(b);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  // An absent key and a key holding undefined mean the same in a Plan (optional fields).
  const ka = Object.keys(ra).filter((k) => ra[k] !== undefined);
  const kb = Object.keys(rb).filter((k) => rb[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => deepEqual(ra[k], rb[k]));
}
