/** The control plane as an Attachment of `tend up`: socket and TCP server, metrics binding, control state. */
import { join } from 'node:path';
import type { Attachment } from '../app/index.js';
import { bindMetrics } from './metrics.js';
import { ReloadError, reload } from './reload.js';
import { startControlServer } from './server.js';
import { controlState } from './state.js';

/** `<state_dir>/tend.sock`: where `tend up` listens and the CLI looks. */
export function socketPathOf(stateDir: string): string {
  return join(stateDir, 'tend.sock');
}

/**
 * Starts the API before any service starts, so that a second `tend up` on the same state folder is refused
 * (StartError, exit 1) while nothing has been spawned yet.
 */
export function controlAttachment(): Attachment {
  return async (rt) => {
    const cs = controlState(rt);
    const server = await startControlServer({
      rt,
      cs,
      socketPath: socketPathOf(rt.plan.stateDir),
      http: rt.plan.http,
    });
    cs.httpUrl = server.httpUrl;
    if (server.httpUrl) rt.out.write(`tend | dashboard, API and metrics on ${server.httpUrl}\n`);
    const unbind = bindMetrics({
      app: rt.plan.name,
      appState: () => rt.appState(),
      services: () => rt.stack.status(),
      logStats: (name) => rt.stack.log(name)?.stats(),
      maintenance: () => cs.maintenance(),
      // a sink's name may carry a URL or a command line: label it by position and kind only
      notifyDropped: () =>
        rt
          .notifyStats()
          .map((s, i) => ({ consumer: `notify:${i}:${s.sink.split(' ')[0]}`, dropped: s.dropped })),
    });
    if (!rt.plan.file) {
      // `tend run` has no manifest in the current folder to find the socket by
      const sock = socketPathOf(rt.plan.stateDir);
      rt.out.write(`tend | control socket ${sock} (e.g. tend status --socket ${sock})\n`);
    }
    // SIGHUP: the lifecycle restarts the app and reloads the manifest while the services are down
    const offHangup = rt.onHangup(async () => {
      try {
        await reload(rt, { start: false });
      } catch (err) {
        // an invalid manifest was reported by reload(); `tend run` has none to reload
        if (!(err instanceof ReloadError)) throw err;
      }
    });
    return {
      async close() {
        offHangup();
        unbind();
        await server.close();
        cs.close();
      },
    };
  };
}
