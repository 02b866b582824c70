/** The control plane as a module of `tend up`: the socket and TCP server. */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Module } from '../runtime/index.js';
import { findManifest, shownPath } from './locate.js';
import { parseListenAddress, startControlServer } from './server.js';

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
        const host = rt.plan.http ? parseListenAddress(rt.plan.http).host : '';
        const every = host === '' || host === '0.0.0.0' || host === '::' ? ' (bound to every interface)' : '';
        rt.out.write(`tend | dashboard, API and metrics on ${server.httpUrl}${every}\n`);
      }
      if (!rt.plan.file) {
        // `tend run` has no manifest in the current folder to find the socket by
        const sock = socketPathOf(rt.plan.stateDir);
        rt.out.write(`tend | control socket ${sock} (e.g. tend status --socket ${sock})\n`);
      }
      // once up, the next step in one line: where to look from here
      const unsubscribe = rt.bus.subscribe((e) => {
        if (e.kind !== 'app' || e.to !== 'UP') return;
        unsubscribe();
        rt.out.write(`tend | ${nextStep(rt.plan.file, socketPathOf(rt.plan.stateDir), server.httpUrl)}\n`);
      });
      return {
        close: () => {
          unsubscribe();
          return server.close();
        },
      };
    },
  };
}

/** `up · dashboard http://127.0.0.1:7070/ · \`tend status\` in another terminal`, with the flag it needs. */
export function nextStep(file: string | undefined, socket: string, httpUrl: string | undefined): string {
  const here = file && findManifest(undefined, process.cwd()) === file;
  const where = here ? '' : file ? ` -f ${shownPath(file)}` : ` --socket ${shownPath(socket)}`;
  const dashboard = httpUrl ? ` · dashboard ${httpUrl}` : '';
  return `up${dashboard} · \`${tendCommand()} status${where}\` in another terminal`;
}

/**
 * How to call this tend from another terminal: `tend` when it is on PATH, else the way it was started
 * (`node dist/cli/main.js` after `npm run quickstart`), so that the line printed works when pasted.
 */
export function tendCommand(env: NodeJS.ProcessEnv = process.env, script = process.argv[1]): string {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, 'tend'), constants.X_OK);
      return 'tend';
    } catch {}
  }
  return script ? `node ${shownPath(script)}` : 'tend';
}
