/**
 * The commands that talk to a running tend: thin clients of the control API. Registered from main.ts; each
 * action imports what it needs when it runs, so `tend status` loads node:http and little else.
 *
 * Exit codes: 0 done; 1 no tend is running, or the request failed; 2 usage (an unknown service, an invalid
 * manifest on reload).
 */
import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import type { Located } from '../control/locate.js';
import type { ActionResult, LogLineView, ReloadResult, StatusView } from '../control/types.js';

interface Common {
  socket?: string;
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
      new Option(flags, 'the manifest that locates the socket (default: ./tend.yaml)').env('TEND_FILE'),
    );
  if (json) cmd.option('--json', 'print JSON');
  return cmd;
}

async function locate(opts: Common): Promise<Located> {
  const { locateSocket } = await import('../control/locate.js');
  return locateSocket({ socket: opts.socket, file: opts.file });
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

async function statusCommand(opts: Common & { quiet?: boolean }): Promise<number> {
  const { call } = await import('../control/client.js');
  try {
    const st = await call<StatusView>(await locate(opts), 'GET', '/api/status');
    if (opts.json) out(JSON.stringify(st, null, 2));
    else if (opts.quiet) {
      for (const s of st.services) out(s.name);
    } else {
      const { formatStatus } = await import('../control/format.js');
      out(formatStatus(st, process.stdout.isTTY ? process.stdout.columns : undefined));
    }
    return EXIT_OK;
  } catch (e) {
    return failure(e);
  }
}

/** The closest service name of the running tend, for "did you mean"; undefined when none is close. */
async function suggestService(loc: Located, name: string): Promise<string | undefined> {
  const { call } = await import('../control/client.js');
  const { closest } = await import('./suggest.js');
  try {
    const st = await call<StatusView>(loc, 'GET', '/api/status');
    return closest(
      name,
      st.services.map((s) => s.name),
    );
  } catch {
    return undefined;
  }
}

async function actionCommand(
  action: ActionResult['action'],
  given: string[],
  opts: Common & { wait?: boolean; all?: boolean },
): Promise<number> {
  const named = given.length > 0;
  if (opts.all ? named : !named) {
    err(
      opts.all
        ? `tend ${action}: give service names or --all, not both`
        : `tend ${action}: name the services, or --all for every one (\`tend status\` lists them)`,
    );
    return EXIT_USAGE;
  }
  const { call, ApiError } = await import('../control/client.js');
  const loc = await locate(opts);
  let services = given;
  if (opts.all) {
    // every service, jobs aside (a job runs on its schedule); stopped in the reverse of the start order
    try {
      const st = await call<StatusView>(loc, 'GET', '/api/status');
      services = st.services.filter((s) => !s.job).map((s) => s.name);
      if (action === 'stop') services.reverse();
    } catch (e) {
      return failure(e);
    }
  }
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
      if (e instanceof ApiError && e.status === 404) {
        const guess = await suggestService(loc, name);
        if (guess) err(`  did you mean ${guess}?`);
      }
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

/** `tend down`: asks the running tend to stop, then waits until its process is gone. */
async function downCommand(opts: Common & { timeout: string }): Promise<number> {
  const { parseDuration } = await import('../manifest/index.js');
  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(opts.timeout);
  } catch (e) {
    err(`tend down: --timeout ${(e as Error).message}`);
    return EXIT_USAGE;
  }
  const { call, NotRunningError } = await import('../control/client.js');
  const loc = await locate(opts);
  let pid: number;
  try {
    pid = (await call<{ pid: number }>(loc, 'POST', '/api/shutdown')).pid;
  } catch (e) {
    if (e instanceof NotRunningError) {
      // nothing to stop is what `down` wants: like `docker compose down`, that is success
      err(`tend: ${e.message.replace(/; start one with .*$/, '')}; nothing to stop`);
      return EXIT_OK;
    }
    return failure(e);
  }
  if (!opts.json) out(`stopping tend (pid ${pid})…`);
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      err(
        `tend: pid ${pid} is still stopping after ${opts.timeout}; \`tend status\` shows what it waits for`,
      );
      return EXIT_FAIL;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (opts.json) out(JSON.stringify({ pid, stopped: true }));
  else out('stopped');
  return EXIT_OK;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it exists, it is just not ours to signal
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // an exited tend whose parent has not collected it yet (a zombie) is gone for our purpose
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
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

/** `--since 10m` (ago) or an ISO time → ms since the epoch; undefined when it is neither. */
export async function parseSince(text: string, now = Date.now()): Promise<number | undefined> {
  const { parseDuration } = await import('../manifest/index.js');
  try {
    return now - parseDuration(text);
  } catch {
    const t = Date.parse(text);
    return Number.isNaN(t) ? undefined : t;
  }
}

async function logsCommand(
  service: string | undefined,
  opts: Common & { follow?: boolean; lines?: string; timestamps?: boolean; since?: string },
): Promise<number> {
  let since: number | undefined;
  if (opts.since !== undefined) {
    since = await parseSince(opts.since);
    if (since === undefined) {
      err(
        `tend logs: --since takes a duration (10m, 2h) or a time (2026-01-02T15:04:05Z), not ${JSON.stringify(opts.since)}`,
      );
      return EXIT_USAGE;
    }
  }
  // with --since, every line since then unless -n also limits them
  const n = opts.lines === undefined ? (since === undefined ? 100 : 100_000) : Number(opts.lines);
  if (!Number.isInteger(n) || n < 0) {
    err(`tend logs: -n takes a whole number of lines, not ${JSON.stringify(opts.lines)}`);
    return EXIT_USAGE;
  }
  const { call, stream, NotRunningError } = await import('../control/client.js');
  const { formatLogLine } = await import('../control/format.js');
  // `tend logs | head` closes the pipe early: that ends the command, it is not an error
  process.stdout.on('error', () => process.exit(EXIT_OK));
  let width = 0;
  const print = (l: LogLineView) => {
    if (since !== undefined && l.time < since) return;
    if (opts.json) return out(JSON.stringify(l));
    width = Math.max(width, l.service.length);
    out(formatLogLine(l, { prefix: service ? undefined : width, timestamps: opts.timestamps }));
  };
  const printAll = (lines: LogLineView[]) => {
    // a loop, not Math.max(...lines): up to 100 000 lines are too many arguments for one call
    for (const l of lines) width = Math.max(width, l.service.length);
    for (const l of lines) print(l);
  };
  // the server has no time filter: ask for enough lines and keep those since the time
  const q = new URLSearchParams({ n: String(since === undefined ? n : 100_000) });
  if (service) q.set('service', service);
  const keep = (lines: LogLineView[]) =>
    (since === undefined ? lines : lines.filter((l) => l.time >= (since as number))).slice(-n);
  let loc: Located | undefined;
  try {
    loc = await locate(opts);
    if (opts.follow) {
      if (since !== undefined) {
        printAll(keep((await call<{ lines: LogLineView[] }>(loc, 'GET', `/api/logs?${q}`)).lines));
        q.set('n', '0');
      }
      q.set('follow', '1');
      await stream<LogLineView>(loc, `/api/logs?${q}`, print);
    } else {
      printAll(keep((await call<{ lines: LogLineView[] }>(loc, 'GET', `/api/logs?${q}`)).lines));
    }
    return EXIT_OK;
  } catch (e) {
    if (e instanceof NotRunningError) return logsOffline(service, opts, n, since, printAll);
    if (loc && service && (e as { status?: number }).status === 404) {
      const code = await failure(e);
      const guess = await suggestService(loc, service);
      if (guess) err(`  did you mean ${guess}?`);
      return code;
    }
    return failure(e);
  }
}

/** No tend running: the last lines of the services' log files, as the manifest places them. */
async function logsOffline(
  service: string | undefined,
  opts: Common & { follow?: boolean },
  n: number,
  since: number | undefined,
  printAll: (lines: LogLineView[]) => void,
): Promise<number> {
  const { findManifest } = await import('../control/locate.js');
  const file = findManifest(opts.file ?? process.env.TEND_FILE, process.cwd());
  if (!file) {
    err('tend: no tend is running and there is no tend.yaml here to find log files by; pass --file FILE');
    return EXIT_FAIL;
  }
  const { loadManifest, ManifestError } = await import('../manifest/index.js');
  const { readLogFiles } = await import('../control/logfiles.js');
  let plan: import('../manifest/types.js').Plan;
  try {
    plan = loadManifest(file, { env: process.env }).plan;
  } catch (e) {
    if (e instanceof ManifestError) {
      err(e.message);
      return EXIT_USAGE;
    }
    throw e;
  }
  const names = service ? [service] : Object.keys(plan.services);
  if (service && !plan.services[service]) {
    const { closest } = await import('./suggest.js');
    const guess = closest(service, Object.keys(plan.services));
    err(`tend: no service ${JSON.stringify(service)} in ${file}${guess ? `; did you mean ${guess}?` : ''}`);
    return EXIT_USAGE;
  }
  const { lines, files: read } = await readLogFiles(plan, names, n);
  err(
    read.length
      ? `tend: no tend is running; the last lines of ${read.length === 1 ? read[0] : `${read.length} log files`}`
      : `tend: no tend is running, and ${service ? `${service} has no log file` : 'no service has a log file'} yet`,
  );
  if (since !== undefined && lines.some((l) => Number.isNaN(l.time)))
    err('tend: warning: raw log lines carry no time; --since keeps only stamped ones');
  printAll(lines);
  if (opts.follow) {
    err('tend: -f follows a running tend only; start it with `tend up`');
    return EXIT_FAIL;
  }
  return read.length ? EXIT_OK : EXIT_FAIL;
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

/** `--raw`: a string as it is (for `$(tend cfg get db.host --raw)`), anything else as compact JSON. */
function showValue(v: unknown, raw?: boolean): string {
  if (!raw) return JSON.stringify(v, null, 2);
  return typeof v === 'string' ? v : JSON.stringify(v);
}

async function cfgGetCommand(
  path: string | undefined,
  opts: Common & { only?: string; raw?: boolean },
): Promise<number> {
  const { call, ApiError, NotRunningError } = await import('../control/client.js');
  const q = new URLSearchParams({ path: path ?? '' });
  try {
    const r = await call<{ value: unknown }>(await locate(opts), 'GET', `/api/cfg?${q}`);
    out(showValue(r.value, opts.raw));
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
async function cfgOffline(
  path: string | undefined,
  opts: Common & { only?: string; raw?: boolean },
): Promise<number> {
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
  out(showValue(v, opts.raw));
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

/** Adds status (ps, ls), down, start, stop, restart, reload, logs, maintenance and cfg to the program. */
export function registerClientCommands(program: Command): void {
  const run = (p: Promise<number>) =>
    p.then((code) => {
      process.exitCode = code;
    });

  withConnection(
    program
      .command('status')
      .aliases(['ps', 'ls'])
      .description('state of each service of the running tend (also: ps, ls)'),
  )
    .option('-q, --quiet', 'print only the service names')
    .action((opts: Common & { quiet?: boolean }) => run(statusCommand(opts)));

  withConnection(
    program
      .command('down')
      .description('stop the running tend from another terminal and wait until it exits'),
  )
    .option('--timeout <duration>', 'how long to wait for it to exit', '2m')
    .action((opts: Common & { timeout: string }) => run(downCommand(opts)));

  for (const [action, text] of [
    ['start', 'start services of the running tend'],
    ['stop', 'stop services of the running tend (they stay down until started)'],
    ['restart', 'restart services of the running tend'],
  ] as const) {
    withConnection(program.command(action).description(text))
      .argument('[service...]', 'service names')
      .option('-a, --all', 'every service (jobs aside)')
      .option('--no-wait', 'return at once instead of when the change took effect')
      .action((services: string[], opts: Common & { wait?: boolean; all?: boolean }) =>
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
    .option('-n, --lines <n>', 'lines to print first (default: 100; with --since, all since then)')
    .option('--since <when>', 'only lines since a duration ago (10m, 2h) or a time (2026-01-02T15:04:05Z)')
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
    .option('--raw', 'a string as it is, without quotes (for $(…)); other values as one line of JSON')
    .action((path: string | undefined, opts: Common & { raw?: boolean }) => run(cfgGetCommand(path, opts)));
}
