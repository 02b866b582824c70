/** The control plane as a module of `tend up`: the socket and TCP server. */
import { join } from 'node:path';
import type { Module } from '../runtime/index.js';
import { startControlServer } from './server.js';

/** `<state_dir>/tend.sock`: where `tend up` listens and the CLI looks. */
export function socketPathOf(stateDir: string): string {
  return join(stateDir, 'tend.sock');
}

/**
 * Starts the API before any service starts, so that a second `tend up` on the same state folder is refused
 * (StartError, exit 1) while nothing has been spawned yet.
 */
export function controlModule(): Module {
  return {
    name: 'control',
    async attach(rt) {
      const server = await startControlServer({
        rt,
        socketPath: socketPathOf(rt.plan.stateDir),
        http: rt.plan.http,
      });
      rt.control.httpUrl = server.httpUrl;
      if (server.httpUrl) {
        // As Jupyter does: the token tend made goes with the address, so the printed URL opens the dashboard.
        // A TEND_TOKEN the user set is theirs to know, and is never printed.
        const shown = server.madeToken
          ? `${server.httpUrl}?token=${server.madeToken}`
          : `${server.httpUrl} (API calls need TEND_TOKEN)`;
        rt.out.write(`tend | dashboard, API and metrics on ${shown}\n`);
      }
      if (!rt.plan.file) {
        // `tend run` has no manifest in the current folder to find the socket by
        const sock = socketPathOf(rt.plan.stateDir);
        rt.out.write(`tend | control socket ${sock} (e.g. tend status --socket ${sock})\n`);
      }
      return { close: () => server.close() };
    },
  };
}
