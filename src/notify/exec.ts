import { spawn } from 'node:child_process';
import type { TendEvent } from '../events/index.js';
import type { Command } from '../manifest/types.js';
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

function killGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
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
  return (events: TendEvent[], signal: AbortSignal): Promise<Outcome> => {
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

    return new Promise<Outcome>((resolve) => {
      let out = '';
      let stdoutText = '';
      let timedOut = false;
      let finished = false;
      const keep = (s: string, chunk: Buffer) => (s + chunk.toString('utf8')).slice(-OUTPUT_TAIL);
      // Its own process group, so a timeout also kills whatever the script started (curl, sleep…).
      const child = spawn(file, args, {
        cwd: opts.cwd,
        env,
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const finish = (outcome: Outcome) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        clearTimeout(killTimer);
        signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      let killTimer: NodeJS.Timeout | undefined;
      const stop = () => {
        if (child.pid === undefined) return;
        killGroup(child.pid, 'SIGTERM');
        killTimer = setTimeout(
          () => child.pid !== undefined && killGroup(child.pid, 'SIGKILL'),
          KILL_GRACE_MS,
        );
      };
      const timer = setTimeout(() => {
        timedOut = true;
        stop();
      }, opts.timeoutMs);
      const onAbort = () => {
        if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      };
      signal.addEventListener('abort', onAbort, { once: true });

      child.stdout.on('data', (c: Buffer) => {
        stdoutText = keep(stdoutText, c);
        out = keep(out, c);
      });
      child.stderr.on('data', (c: Buffer) => {
        out = keep(out, c);
      });
      // A script that never reads stdin closes it early: EPIPE here is normal.
      child.stdin.on('error', () => {});
      child.stdin.end(`${payload(event, opts.app, opts.host)}\n`);

      child.on('error', (err) => finish({ ok: false, retry: false, error: `cannot run: ${err.message}` }));
      child.on('exit', (code, sig) => {
        // Grandchildren may hold the pipes open; give the output a moment, then stop reading.
        const settle = setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
          conclude(code, sig);
        }, 100);
        child.once('close', () => {
          clearTimeout(settle);
          conclude(code, sig);
        });
      });
      const conclude = (code: number | null, sig: NodeJS.Signals | null) => {
        if (finished) return;
        const tail = out.replace(/\s+/g, ' ').trim().slice(-300);
        if (timedOut) {
          finish({
            ok: false,
            retry: false,
            error: `killed after ${opts.timeoutMs}ms timeout${tail ? `: ${tail}` : ''}`,
          });
        } else if (code === 0) {
          if (stdoutText !== '') {
            try {
              opts.stdout.write(stdoutText.endsWith('\n') ? stdoutText : `${stdoutText}\n`);
            } catch {
              // stdout broken: the stdout sink reports that.
            }
          }
          finish({ ok: true });
        } else {
          const how = sig ? `killed by ${sig}` : `exited with code ${code}`;
          finish({ ok: false, retry: false, error: `${how}${tail ? `: ${tail}` : ''}` });
        }
      };
    });
  };
}
