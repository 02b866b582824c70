/**
 * The settings overlay: with `settings.kv_prefix`, the keys under it are overlaid on the settings
 * (rt.updateSettings). Until the overlay was applied once, services wait (gate `settings`) and nothing renders:
 * `.Settings` may be read by any template. A later change re-renders every template; only those whose bytes
 * changed act. A refused overlay keeps the last good settings.
 *
 * A later change also acts on every service itself (`settingsChanged`): TEND_SETTINGS_FILE is read at start by
 * most services, so each gets its `on_settings_change` (default `settings.on_change`, `restart`; `none` for
 * jobs, which read the file at each run). The action joins the service's batch with the actions of its
 * templates re-rendered for the same change, so a service whose template reads `.Settings` is restarted once.
 * Stages do not run again: they belong to the app's start, not to a change of its settings.
 */
import type { ConfigEvent } from '../events/index.js';
import type { Stack } from '../supervisor/index.js';
import { emptyBatch, queueAction } from './actions.js';
import type { Snapshot } from './snapshot.js';
import type { Group } from './state.js';

export const SETTINGS_GATE = 'settings';

export interface OverlayContext {
  prefix: string | undefined;
  kvUrl: string;
  stack: Stack;
  snapshot: Snapshot;
  /** applies the pairs (relative to the prefix); resolves true when the settings changed */
  updateSettings?(pairs: Array<{ key: string; value: string }>): Promise<boolean>;
  closed(): boolean;
  /** delay before the n-th retry of a failed read */
  backoff(n: number): number;
  say(text: string): void;
  publish(e: Omit<ConfigEvent, 'kind' | 'time' | 'seq'>): void;
  /** the overlay was applied the first time: render everything */
  onReady(): void;
  /** the settings changed later: render the templates again */
  onChanged(): void;
}

export interface Overlay {
  /** applied at least once (always, without a prefix) */
  ready(): boolean;
  readyPromise: Promise<void>;
  /** reads the pairs under the prefix and applies them; retries with backoff while the store does not answer */
  apply(): void;
  /** the store answers again: a waiting retry runs now */
  retryNow(): void;
  /** the gate reason of a service added while the overlay is not ready, else undefined */
  gateReason(): string | undefined;
  close(): void;
}

export function createOverlay(ctx: OverlayContext): Overlay {
  const { prefix, stack, snapshot } = ctx;
  let ok = prefix === undefined;
  let resolveReady!: () => void;
  const readyPromise = new Promise<void>((r) => {
    resolveReady = r;
  });
  if (ok) resolveReady();
  let chain: Promise<void> = Promise.resolve();
  let retry: NodeJS.Timeout | undefined;
  let retries = 0;
  const gateReason = () => (ok ? undefined : `waiting for settings from ${ctx.kvUrl} ${prefix}`);

  const apply = () => {
    if (prefix === undefined || ctx.closed()) return;
    chain = chain.then(async () => {
      if (ctx.closed()) return;
      let pairs = snapshot.pairs(prefix);
      try {
        for (let i = 0; pairs === undefined && i < 8; i++) {
          await snapshot.fetch({ keys: [], prefixes: [prefix] });
          pairs = snapshot.pairs(prefix);
        }
      } catch {
        pairs = undefined;
      }
      if (ctx.closed()) return;
      if (pairs === undefined) {
        retry = setTimeout(() => {
          retry = undefined;
          apply();
        }, ctx.backoff(retries++));
        const reason = gateReason();
        if (reason !== undefined)
          for (const name of stack.names()) stack.setGate(name, SETTINGS_GATE, reason);
        return;
      }
      retries = 0;
      let changed = false;
      try {
        changed =
          (await ctx.updateSettings?.(
            pairs.map((p) => ({ key: p.key.slice(prefix.length), value: p.value })),
          )) ?? false;
      } catch (e) {
        const reason = `settings from ${prefix} refused, keeping the last good settings: ${(e as Error).message}`;
        ctx.say(reason);
        ctx.publish({ action: 'error', reason });
      }
      if (!ok) {
        ok = true;
        for (const name of stack.names()) stack.setGate(name, SETTINGS_GATE, null);
        resolveReady();
        ctx.onReady();
      } else if (changed) ctx.onChanged();
    });
  };

  return {
    ready: () => ok,
    readyPromise,
    apply,
    retryNow() {
      if (!retry) return;
      clearTimeout(retry);
      retry = undefined;
      apply();
    },
    gateReason,
    close: () => clearTimeout(retry),
  };
}

/**
 * Queues each service's `settingsOnChange` in its group's batch (a service without templates or env_from gets a
 * group of its own, without units, for this change only). Returns the groups to flush once their templates
 * were scheduled again: the loop's flush waits for them, then hands the batch to `stack.configChanged`.
 */
export function settingsChanged(stack: Stack, groups: ReadonlyMap<string, Group>, prefix: string): Group[] {
  const what = `settings under ${prefix}`;
  const out: Group[] = [];
  for (const name of stack.names()) {
    const sp = stack.runner(name)?.plan;
    if (!sp) continue;
    const g = groups.get(name) ?? { name, plan: sp, units: [], batch: emptyBatch(), failedByConfig: false };
    queueAction(g.batch, sp.settingsOnChange, sp.reloadSignal, what);
    out.push(g);
  }
  return out;
}
