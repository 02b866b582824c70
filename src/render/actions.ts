/**
 * What a change of config does to its service (`on_change`), merged per batch: the templates of one service
 * that change together cause one action. A restart wins over signals (the new process reads everything);
 * signals go once each; every distinct exec runs. Pure: the loop decides when a batch is complete and does it.
 */
import type { Command, OnChange, Signal } from '../manifest/types.js';

export type Action =
  | { kind: 'restart' }
  | { kind: 'signal'; signal: Signal }
  | { kind: 'exec'; command: Command };

/** the actions queued for one service since its last flush, and what changed (for the reason) */
export interface Batch {
  actions: Map<string, Action>;
  changed: Set<string>;
}

export function emptyBatch(): Batch {
  return { actions: new Map(), changed: new Set() };
}

/** Queues what `onChange` asks for; `what` (a label) names the change in the reason. */
export function queueAction(b: Batch, onChange: OnChange, reloadSignal: Signal, what: string): void {
  b.changed.add(what);
  const a = actionOf(onChange, reloadSignal);
  if (a) b.actions.set(actionKey(a), a);
}

function actionOf(onChange: OnChange, reloadSignal: Signal): Action | undefined {
  switch (onChange.kind) {
    case 'restart':
      return { kind: 'restart' };
    case 'reload':
      return { kind: 'signal', signal: reloadSignal };
    case 'signal':
      return { kind: 'signal', signal: onChange.signal };
    case 'exec':
      return { kind: 'exec', command: onChange.command };
    case 'none':
      return undefined;
    default:
      return unreachable(onChange);
  }
}

function actionKey(a: Action): string {
  switch (a.kind) {
    case 'restart':
      return 'restart';
    case 'signal':
      return `signal:${a.signal}`;
    case 'exec':
      return `exec:${JSON.stringify(a.command)}`;
    default:
      return unreachable(a);
  }
}

/** One batch, merged: what to do to the service and which commands to run beside it. */
export interface Plan {
  restart: boolean;
  /** in the order queued, each once (a restart makes them moot for a service; the loop decides) */
  signals: Signal[];
  execs: Command[];
  /** what changed, joined for the reason */
  what: string;
}

/** Empties the batch into what to do; undefined when nothing was queued. */
export function takeBatch(b: Batch): Plan | undefined {
  if (b.actions.size === 0) {
    // changes whose on_change is `none` must not show up in the reason of a later batch
    b.changed.clear();
    return undefined;
  }
  const plan: Plan = { restart: false, signals: [], execs: [], what: [...b.changed].join(', ') };
  for (const a of b.actions.values()) {
    switch (a.kind) {
      case 'restart':
        plan.restart = true;
        break;
      case 'signal':
        plan.signals.push(a.signal);
        break;
      case 'exec':
        plan.execs.push(a.command);
        break;
      default:
        unreachable(a);
    }
  }
  b.actions.clear();
  b.changed.clear();
  return plan;
}

/** A new case of a union reaches here only if a switch above forgot it: the compiler says which. */
function unreachable(x: never): never {
  throw new Error(`unhandled case ${JSON.stringify(x)}`);
}
