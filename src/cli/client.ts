/**
 * The commands that talk to a running tend: thin clients of the control API. Registered from main.ts; each
 * action imports what it needs when it runs, so `tend status` loads node:http and little else.
 *
 * Exit codes: 0 done; 1 no tend is running, or the request failed; 2 usage (an unknown service, an invalid
 * manifest on reload).
 */
import { type Command, Option } from 'commander';
import type { Located } from '../control/locate.js';
import type { ActionResult, LogLineView, ReloadResult, StatusView } from '../control/types.js';

interface Common {
  socket?: string;
  url?: string;
  file?: string;
  json?: boolean;
}

const EXIT_OK = 0;
const EXIT_FAIL = 1;
const EXIT_USAGE = 2;

const out = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
const err = (text: string) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);

function withConnection(cmd: Command, json = true, shortFile = true): Command {
  const flags = shortFile ? '-f, --file <file>' : '--file <file>';
  cmd
    .option('--socket <path>', 'the control socket (default: $TEND_SOCKET, else <state_dir>/tend.sock)')
    .addOption(
      new Option(
        '--url <url>',
        "talk to tend's TCP listener instead, with $TEND_TOKEN or the token in <state_dir>/token",
      ).env('TEND_URL'),
    )
    .addOption(
      new Option(flags, 'the manifest that locates the socket (default: ./tend.yaml)').env('TEND_FILE'),
    );
  if (json) cmd.option('--json', 'print JSON');
  return cmd;
}

async function locate(opts: Common): Promise<Located> {
  const { locateSocket } = await import('../control/locate.js');
  return locateSocket({ socket: opts.socket, file: opts.file, url: opts.url });
}

/** Turns a client failure into a message and an exit code. */
async function failure(e: unknown): Promise<number> {
  const { ApiError, NotRunningError } = await import('../control/client.js');
  if (e instanceof NotRunningError) {
    err(`tend: ${e.message}`);
    return EXIT_FAIL;
  }
  if (e instanceof ApiError) {
    err(`tend: ${e.message}`);
    for (const i of e.body.issues ?? []) err(`  ${i}`);
    return e.status === 404 || e.status === 400 || e.status === 409 ? EXIT_USAGE : EXIT_FAIL;
  }
  err(`tend: ${(e as Error)?.message ?? String(e)}`);
  return EXIT_FAIL;
}

async function statusCommand(opts: Common): Promise<number> {
  const { call } = await import('../control/client.js');
  try {
    const st = await call<StatusView>(await locate(opts), 'GET', '/api/status');
    if (opts.json) out(JSON.stringify(st, null, 2));
    else {
      const { formatStatus } = await import('../control/format.js');
      out(formatStatus(st, process.stdout.isTTY ? process.stdout.columns : undefined));
    }
    return EXIT_OK;
  } catch (e) {
    return failure(e);
  }
}

async function actionCommand(
  action: ActionResult['action'],
  services: string[],
  opts: Common & { wait?: boolean },
): Promise<number> {
  const { call } = await import('../control/client.js');
  const loc = await locate(opts);
  const results: ActionResult[] = [];
  let code = EXIT_OK;
  for (const name of services) {
    try {
      const q = opts.wait === false ? '?wait=0' : '';
      const r = await call<ActionResult>(
        loc,
        'POST',
        `/api/services/${encodeURIComponent(name)}/${action}${q}`,
      );
      results.push(r);
      if (!opts.json) out(describeAction(r));
    } catch (e) {
      const c = await failure(e);
      code = Math.max(code, c);
      // a tend that is not running will not be running for the next name either
      if (c === EXIT_FAIL && !(e as { status?: number }).status) return c;
    }
  }
  if (opts.json) out(JSON.stringify(results, null, 2));
  return code;
}

function describeAction(r: ActionResult): string {
  const a = r.after;
  const pid = a.pid ? ` (pid ${a.pid})` : '';
  // "start requested" on a running service only repeats what was asked; other states say why they are so
  const why = a.reason && a.state !== 'running' && a.state !== 'ready' ? `: ${a.reason}` : '';
  if (r.action === 'stop') return `${r.service}: ${a.state}${why}`;
  if (r.action === 'restart' && r.before.pid && a.pid && r.before.pid !== a.pid) {
    return `${r.service}: restarted, pid ${r.before.pid} → ${a.pid} (${a.state})`;
  }
  return `${r.service}: ${a.state}${pid}${why}`;
}

async function reloadCommand(opts: Common): Promise<number> {
  const { call } = await import('../control/client.js');
  try {
    const r = await call<ReloadResult>(await locate(opts), 'POST', '/api/reload');
    if (opts.json) out(JSON.stringify(r, null, 2));
    else {
      const { describeReload } = await import('../control/format.js');
      const { shownPath } = await import('../control/locate.js');
      out(`reloaded ${shownPath(r.file)}: ${describeReload(r)}`);
    }
    for (const w of r.warnings) err(`tend: warning: ${w}`);
    return EXIT_OK;
  } catch (e) {
    return failure(e);
  }
}

async function logsCommand(
  service: string | undefined,
  opts: Common & { follow?: boolean; lines: string; timestamps?: boolean },
): Promise<number> {
  const n = Number(opts.lines);
  if (!Number.isInteger(n) || n < 0) {
    err(`tend logs: -n takes a whole number of lines, not ${JSON.stringify(opts.lines)}`);
    return EXIT_USAGE;
  }
  const { call, stream } = await import('../control/client.js');
  const { formatLogLine } = await import('../control/format.js');
  // `tend logs | head` closes the pipe early: that ends the command, it is not an error
  process.stdout.on('error', () => process.exit(EXIT_OK));
  let width = 0;
  const print = (l: LogLineView) => {
    if (opts.json) return out(JSON.stringify(l));
    width = Math.max(width, l.service.length);
    out(formatLogLine(l, { prefix: service ? undefined : width, timestamps: opts.timestamps }));
  };
  const q = new URLSearchParams({ n: String(n) });
  if (service) q.set('service', service);
  try {
    const loc = await locate(opts);
    if (opts.follow) {
      q.set('follow', '1');
      await stream<LogLineView>(loc, `/api/logs?${q}`, print);
    } else {
      const r = await call<{ lines: LogLineView[] }>(loc, 'GET', `/api/logs?${q}`);
      width = Math.max(0, ...r.lines.map((l) => l.service.length));
      for (const l of r.lines) print(l);
    }
    return EXIT_OK;
  } catch (e) {
    return failure(e);
  }
}

async function maintenanceCommand(mode: string | undefined, opts: Common): Promise<number> {
  if (mode !== undefined && mode !== 'on' && mode !== 'off') {
    err(`tend maintenance: say \`on\` or \`off\`, not ${JSON.stringify(mode)}`);
    return EXIT_USAGE;
  }
  const { call } = await import('../control/client.js');
  try {
    const loc = await locate(opts);
    const r =
      mode === undefined
        ? await call<{ maintenance: boolean }>(loc, 'GET', '/api/maintenance')
        : await call<{ maintenance: boolean }>(loc, 'POST', '/api/maintenance', { on: mode === 'on' });
    if (opts.json) out(JSON.stringify(r));
    else
      out(
        r.maintenance
          ? 'maintenance on: services keep running and are deregistered from discovery'
          : 'maintenance off: services are registered in discovery while ready',
      );
    return EXIT_OK;
  } catch (e) {
    return failure(e);
  }
}

async function cfgGetCommand(path: string | undefined, opts: Common & { only?: string }): Promise<number> {
  const { call, ApiError, NotRunningError } = await import('../control/client.js');
  const q = new URLSearchParams({ path: path ?? '' });
  try {
    const r = await call<{ value: unknown }>(await locate(opts), 'GET', `/api/cfg?${q}`);
    out(JSON.stringify(r.value, null, 2));
    return EXIT_OK;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      err(`tend: no setting at ${path}; \`tend cfg get\` prints them all`);
      return EXIT_FAIL;
    }
    if (!(e instanceof NotRunningError)) return failure(e);
  }
  return cfgOffline(path, opts);
}

/** No tend running: the settings as a tend started now would see them (defaults ← files ← $CFG; no KV). */
async function cfgOffline(path: string | undefined, opts: Common & { only?: string }): Promise<number> {
  const { findManifest } = await import('../control/locate.js');
  const file = findManifest(opts.file ?? process.env.TEND_FILE, process.cwd());
  if (!file) {
    err('tend: no tend is running and there is no tend.yaml here; pass -f FILE or start one with `tend up`');
    return EXIT_FAIL;
  }
  const { loadManifest, ManifestError } = await import('../manifest/index.js');
  const { getPath } = await import('../settings/index.js');
  const { effectiveSettings } = await import('../lifecycle/index.js');
  let value: unknown;
  try {
    const { plan } = loadManifest(file, { env: process.env });
    value = (await effectiveSettings(plan, process.env, await kvOverlay(plan))).value;
  } catch (e) {
    if (e instanceof ManifestError) {
      err(e.message);
      return EXIT_USAGE;
    }
    err(`tend: ${(e as Error).message}`);
    return EXIT_FAIL;
  }
  const v = getPath(value, path);
  if (v === undefined) {
    err(`tend: no setting at ${path}; \`tend cfg get\` prints them all`);
    return EXIT_FAIL;
  }
  out(JSON.stringify(v, null, 2));
  return EXIT_OK;
}

/** The settings overlay from the KV store, when the manifest has one; a store that does not answer is skipped. */
async function kvOverlay(plan: import('../manifest/types.js').Plan) {
  const prefix = plan.settings.kvPrefix;
  if (prefix === undefined) return undefined;
  const { openKv } = await import('../kv/index.js');
  const kv = openKv(process.env.TEND_KV || plan.kv, { env: process.env, baseDir: plan.dir });
  let timer: NodeJS.Timeout | undefined;
  try {
    const pairs = await Promise.race([
      kv.list(prefix),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer within 5s')), 5000);
      }),
    ]);
    return pairs.map((p) => ({ key: p.key.slice(prefix.length), value: p.value }));
  } catch (e) {
    err(
      `tend: warning: the KV store ${kv.url} did not answer (${(e as Error).message}); settings without its overlay`,
    );
    return undefined;
  } finally {
    clearTimeout(timer);
    await kv.close().catch(() => undefined);
  }
}

/** Adds status, start, stop, restart, reload, logs, maintenance and cfg to the program. */
export function registerClientCommands(program: Command): void {
  const run = (p: Promise<number>) =>
    p.then((code) => {
      process.exitCode = code;
    });

  withConnection(program.command('status').description('state of each service of the running tend')).action(
    (opts: Common) => run(statusCommand(opts)),
  );

  for (const [action, text] of [
    ['start', 'start services of the running tend'],
    ['stop', 'stop services of the running tend (they stay down until started)'],
    ['restart', 'restart services of the running tend'],
  ] as const) {
    withConnection(program.command(action).description(text))
      .argument('<service...>', 'service names')
      .option('--no-wait', 'return at once instead of when the change took effect')
      .action((services: string[], opts: Common & { wait?: boolean }) =>
        run(actionCommand(action, services, opts)),
      );
  }

  withConnection(
    program
      .command('reload')
      .description('re-read the manifest: start added services, stop removed ones, restart changed ones'),
  ).action((opts: Common) => run(reloadCommand(opts)));

  // -f is --follow here, as in `docker logs -f` and `tail -f`
  withConnection(program.command('logs').description('print (follow) service logs'), true, false)
    .argument('[service]', 'one service (default: all, each line prefixed by its service)')
    .option('-f, --follow', 'keep printing new lines')
    .option('-n, --lines <n>', 'lines to print first', '100')
    .option('-t, --timestamps', 'prefix each line with its time')
    .action((service: string | undefined, opts) => run(logsCommand(service, opts)));

  withConnection(
    program
      .command('maintenance')
      .description('deregister every service from discovery without stopping it, and back'),
  )
    .argument('[mode]', 'on | off (without: print the current mode)')
    .action((mode: string | undefined, opts: Common) => run(maintenanceCommand(mode, opts)));

  const cfg = program.command('cfg').description('effective settings (whaleware CFG)');
  withConnection(
    cfg.command('get').description('print the settings as JSON, or one value by dotted PATH'),
    false,
  )
    .argument('[path]', 'dotted path, e.g. db.port or servers.0.host')
    .action((path: string | undefined, opts: Common) => run(cfgGetCommand(path, opts)));
}
