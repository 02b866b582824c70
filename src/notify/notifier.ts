import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import type { Bus } from '../events/index.js';
import { EVENT_KINDS } from '../manifest/index.js';
import { redactUrlsIn } from '../manifest/redact.js';
import type { EventKind, NotifyPlan } from '../manifest/types.js';
import { withTimeout } from '../time/index.js';
import { execDeliver } from './exec.js';
import { fileDeliver } from './file.js';
import { type KvPut, kvDeliver } from './kv.js';
import { createRunner, type Delivery, type Runner, type SinkStats } from './runner.js';
import { stdoutDeliver } from './stdout.js';
import { redactUrl, WEBHOOK_BACKOFF, webhookDeliver } from './webhook.js';

export interface NotifierOptions {
  bus: Bus;
  app: string;
  /** writes a KV key; until the KV store is wired in, kv sinks count their events as failed */
  kvPut?: KvPut;
  /** for the stdout sink and the output of exec sinks; default process.stdout */
  stdout?: NodeJS.WritableStream;
  /**
   * Called right before the stdout sink writes: `tend up` flushes its service echo there, so that what a service
   * or stage printed before an event comes before the event's line on the shared stdout.
   */
  beforeStdout?: () => void;
  /**
   * tend's console line around a text (`tend | web ready`, aligned and dimmed as the echo does): the stdout sink
   * then prints in tend's console format. Without it, `[tend] web: starting → running` lines.
   */
  stdoutLine?: (text: string) => string;
  /** where sinks report their problems, at most once a minute each; default process.stderr */
  stderr?: NodeJS.WritableStream;
  /** folder that relative file paths and exec commands run in */
  cwd: string;
  /** environment of exec sinks; default process.env */
  env?: NodeJS.ProcessEnv;
}

export interface Notifier {
  stats(): SinkStats[];
  /** Stops taking events, delivers what it can within timeoutMs (default 5 s), then drops the rest. */
  close(timeoutMs?: number): Promise<void>;
}

/** Queue size of every sink but webhooks, whose plan carries its own. */
export const DEFAULT_QUEUE = 1000;
const DEFAULT_CLOSE_MS = 5000;

/** The command as the sink's name shows it, with any URL in it cut to scheme and host (it may hold a token). */
function commandText(plan: Extract<NotifyPlan, { kind: 'exec' }>) {
  return redactUrlsIn(plan.command.kind === 'shell' ? plan.command.script : plan.command.argv.join(' '));
}

export function createNotifier(sinks: NotifyPlan[], opts: NotifierOptions): Notifier {
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const host = hostname();
  const { app } = opts;
  const disposers: Array<() => void> = [];
  const names = new Map<string, number>();
  const uniqueName = (name: string) => {
    const n = (names.get(name) ?? 0) + 1;
    names.set(name, n);
    return n === 1 ? name : `${name} #${n}`;
  };

  const runners: Runner[] = sinks.map((plan) => {
    // whaleware's lifecycle script hears about the app only, unless asked for more.
    const kinds = new Set<EventKind>(plan.events ?? (plan.kind === 'exec' ? ['app'] : EVENT_KINDS));
    const base = { kinds, capacity: DEFAULT_QUEUE, batch: 1 };
    let delivery: Delivery;
    switch (plan.kind) {
      case 'stdout': {
        const s = stdoutDeliver(stdout, opts.beforeStdout, opts.stdoutLine);
        disposers.push(s.dispose);
        delivery = { ...base, name: uniqueName('stdout'), batch: 256, deliver: s.deliver };
        break;
      }
      case 'file': {
        const path = isAbsolute(plan.path) ? plan.path : resolve(opts.cwd, plan.path);
        delivery = {
          ...base,
          name: uniqueName(`file ${path}`),
          batch: 512,
          deliver: fileDeliver(path, app, host),
        };
        break;
      }
      case 'webhook':
        delivery = {
          ...base,
          name: uniqueName(`webhook ${redactUrl(plan.url)}`),
          capacity: plan.queue,
          backoff: WEBHOOK_BACKOFF,
          deliver: webhookDeliver({
            url: plan.url,
            timeoutMs: plan.timeoutMs,
            headers: plan.headers,
            app,
            host,
          }),
        };
        break;
      case 'exec':
        delivery = {
          ...base,
          name: uniqueName(`exec ${commandText(plan)}`),
          deliver: execDeliver({
            command: plan.command,
            timeoutMs: plan.timeoutMs,
            cwd: opts.cwd,
            env: opts.env ?? process.env,
            app,
            host,
            stdout,
          }),
        };
        break;
      case 'kv': {
        const name = uniqueName(`kv ${plan.key}`);
        const warn = (message: string) => {
          try {
            stderr.write(`[tend] notify ${name}: ${message}\n`);
          } catch {
            // stderr gone.
          }
        };
        delivery = {
          ...base,
          name,
          backoff: WEBHOOK_BACKOFF,
          deliver: kvDeliver(plan.key, app, host, opts.kvPut, warn),
        };
        break;
      }
    }
    return createRunner(delivery, stderr);
  });

  const unsubscribe = opts.bus.subscribe((event) => {
    for (const r of runners) if (r.accepts(event.kind)) r.enqueue(event);
  });

  let closing: Promise<void> | undefined;
  return {
    stats: () => runners.map((r) => r.stats()),
    close(timeoutMs = DEFAULT_CLOSE_MS) {
      closing ??= (async () => {
        unsubscribe();
        const allIdle = Promise.all(runners.map((r) => r.idle()));
        const first = await withTimeout(
          allIdle.then(() => 'idle' as const),
          timeoutMs,
          () => 'expired' as const,
        );
        if (first === 'expired') {
          const before = runners.map((r) => r.stats().dropped);
          for (const r of runners) r.abort();
          await allIdle;
          // what the budget cut off is said once per sink, never silently dropped
          runners.forEach((r, i) => {
            const st = r.stats();
            const lost = st.dropped - before[i];
            if (lost <= 0) return;
            const why = st.lastError ? `; last error: ${st.lastError}` : '';
            try {
              stderr.write(
                `[tend] notify ${st.sink}: ${lost} event${lost === 1 ? '' : 's'} not delivered, the ${timeoutMs}ms flush at stop ran out${why}\n`,
              );
            } catch {
              // stderr gone.
            }
          });
        }
        for (const d of disposers) d();
      })();
      return closing;
    },
  };
}
