import type { TendEvent } from '../events/index.js';
import type { Command } from '../manifest/types.js';
import { runCommand } from '../procs/index.js';
import { formatDuration } from '../time/index.js';
import { payload, serviceOf, stateOf } from './format.js';
import type { Outcome } from './runner.js';

/** After SIGTERM at the timeout, how long a script gets before SIGKILL. */
const KILL_GRACE_MS = 1000;
/** How much of a script's output is kept for the failure report and echoed on success. */
const OUTPUT_TAIL = 4096;

/**
 * A plain command line (`./bin/lifecycle`, `curl -s http://x`) gets the state appended as its last argument,
 * whaleware's `lifecycle STATE`. A shell script with its own syntax (`echo "$1" >> f; …`) gets it as $1.
 * Both always have it in $TEND_STATE.
 */
export function execArgv(command: Command, state: string): [string, string[]] {
  if (command.kind === 'argv') return [command.argv[0], [...command.argv.slice(1), state]];
  const script = command.script.trim();
  const plain = /^[\w./:=@%+,-]+(?:\s+[\w./:=@%+,-]+)*$/.test(script);
  return ['/bin/sh', ['-c', plain ? `${script} "$@"` : script, 'sh', state]];
}

export function execDeliver(opts: {
  command: Command;
  timeoutMs: number;
  cwd: string;
  env: NodeJS.ProcessEnv;
  app: string;
  host: string;
  stdout: NodeJS.WritableStream;
}) {
  return async (events: TendEvent[], signal: AbortSignal): Promise<Outcome> => {
    const event = events[0];
    const state = stateOf(event);
    const service = serviceOf(event);
    const env: NodeJS.ProcessEnv = {
      ...opts.env,
      TEND_EVENT_KIND: event.kind,
      TEND_STATE: state,
      TEND_APP: opts.app,
    };
    if (service !== undefined) env.TEND_SERVICE = service;
    else delete env.TEND_SERVICE;
    const [file, args] = execArgv(opts.command, state);
    // The one runner: own process group, so a timeout also kills whatever the script started (curl, sleep…).
    const r = await runCommand([file, ...args], {
      cwd: opts.cwd,
      env,
      timeoutMs: opts.timeoutMs,
      killAfterMs: KILL_GRACE_MS,
      maxOutput: OUTPUT_TAIL,
      maxStdout: OUTPUT_TAIL,
      input: `${payload(event, opts.app, opts.host)}\n`,
      signal,
    });
    const tail = r.output.replace(/\s+/g, ' ').trim().slice(-300);
    if (r.error !== undefined) return { ok: false, retry: false, error: `cannot run: ${r.error}` };
    if (r.timedOut) {
      return {
        ok: false,
        retry: false,
        error: `killed after ${formatDuration(opts.timeoutMs)} timeout${tail ? `: ${tail}` : ''}`,
      };
    }
    if (r.code === 0 && !r.aborted) {
      if (r.stdout !== '') {
        try {
          opts.stdout.write(r.stdout.endsWith('\n') ? r.stdout : `${r.stdout}\n`);
        } catch {
          // stdout broken: the stdout sink reports that.
        }
      }
      return { ok: true };
    }
    const how = r.signal ? `killed by ${r.signal}` : `exited with code ${r.code}`;
    return { ok: false, retry: false, error: `${how}${tail ? `: ${tail}` : ''}` };
  };
}
