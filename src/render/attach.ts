/**
 * The render loop plugged into `tend up`: one loop per run on the run's KV store, started before the services
 * (their gates close first), its status reachable by other modules (the control plane's status view).
 */
import type { Attachment, Runtime } from '../app/index.js';
import { metrics } from '../control/metrics.js';
import { type DiscoverySource, discoveryOf, discoverySource } from '../discovery/index.js';
import { createRenderLoop, type RenderLoop, type RenderStatus } from './loop.js';

/** How long start-up waits for the settings overlay before the stages run without it (services still wait). */
const SETTINGS_WAIT_MS = 3000;
/** How long SIGHUP waits for templates re-read from disk before the services start again. */
const HANGUP_RENDER_MS = 10_000;

/** keyed by the stack: the Runtime an attachment gets and the Running `startUp` returns share it */
const loops = new WeakMap<Runtime['stack'], RenderLoop>();

export function renderAttachment(): Attachment {
  return async (rt) => {
    // Discovery is opened only once a template calls `service`/`services`: most runs never need it.
    let source: DiscoverySource | undefined;
    const discovery = () => {
      source ??= discoverySource(discoveryOf(rt), (dep) => loop.dependencyChanged(dep));
      return source;
    };
    const loop: RenderLoop = createRenderLoop({
      plan: rt.plan,
      kv: rt.kv,
      bus: rt.bus,
      stack: rt.stack,
      env: rt.env,
      settings: () => rt.settings(),
      updateSettings: (pairs) => rt.updateSettings(pairs),
      out: rt.out,
      shutdown: (code, reason) => rt.shutdown(code, reason),
      counters: {
        rendered: () => metrics.templateRenders.inc(),
        watchError: () => metrics.kvWatchErrors.inc(),
      },
      services: {
        service: (name, o) => discovery().service(name, o),
        services: (dc, o) => discovery().services(dc, o),
      },
    });
    loops.set(rt.stack, loop);
    // consul-template re-reads its templates on SIGHUP; so does tend, while the services are down
    const offHangup = rt.onHangup(() => within(loop.reloadTemplates(), HANGUP_RENDER_MS));
    // Stages read TEND_SETTINGS_FILE too: give the overlay a moment to land before they run.
    await within(loop.settingsReady(), SETTINGS_WAIT_MS);
    return {
      async close() {
        offHangup();
        loops.delete(rt.stack);
        await loop.close();
        source?.close();
      },
    };
  };
}

/** Templates, env_from and the KV store's connection of a running tend; undefined before the loop started. */
export function renderStatus(rt: Pick<Runtime, 'stack'>): RenderStatus | undefined {
  return loops.get(rt.stack)?.status();
}

function within(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
