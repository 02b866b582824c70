/**
 * The render loop as a module of `tend up`: one loop per run on the run's KV store, started before the services
 * (their gates close first); its status is what `rt.renderStatus()` answers (src/app wires it).
 */
import type { Module, RenderStatus } from '../runtime/index.js';
import { settleWithin } from '../time/index.js';
import { type DiscoverySource, discoverySource } from './discovery-source.js';
import { publishKvNotices } from './kv-notices.js';
import { createRenderLoop, type RenderLoop } from './loop.js';

/** How long start-up waits for the settings overlay before the stages run without it (services still wait). */
const SETTINGS_WAIT_MS = 3000;
/** How long SIGHUP waits for templates re-read from disk before the services start again. */
const HANGUP_RENDER_MS = 10_000;

export interface RenderModule extends Module {
  /** templates, env_from and the KV connection; undefined before the loop started and after it closed */
  status(): RenderStatus | undefined;
}

export function renderModule(): RenderModule {
  let current: RenderLoop | undefined;
  return {
    name: 'render',
    status: () => current?.status(),
    async attach(rt) {
      // Discovery is opened only once a template calls `service`/`services`: most runs never need it.
      let source: DiscoverySource | undefined;
      const discovery = () => {
        source ??= discoverySource(rt.discovery(), (dep) => loop.dependencyChanged(dep));
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
          rendered: () => rt.metrics.templateRenders.inc(),
          watchError: () => rt.metrics.kvWatchErrors.inc(),
        },
        // services with `rollout:` roll their changes through the fleet module (src/app/run.ts wires rt.rollout)
        rollout: rt.rollout,
        services: {
          service: (name, o) => discovery().service(name, o),
          services: (dc, o) => discovery().services(dc, o),
          catalog: (req) => discovery().catalog(req),
        },
      });
      current = loop;
      const offNotices = publishKvNotices(rt.kv, rt.bus);
      // consul-template re-reads its templates on SIGHUP; so does tend, while the services are down
      const offHangup = rt.onHangup(() => settleWithin(loop.reloadTemplates(), HANGUP_RENDER_MS));
      // Stages read TEND_SETTINGS_FILE too: give the overlay a moment to land before they run.
      await settleWithin(loop.settingsReady(), SETTINGS_WAIT_MS);
      return {
        async close() {
          offHangup();
          offNotices();
          current = undefined;
          await loop.close();
          source?.close();
        },
      };
    },
  };
}
