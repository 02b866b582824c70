/** Command actions: each parses what it was given, calls a library, prints and returns an exit code. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Attachment, EXIT, handleSignals, type Running, StartError, startUp } from '../app/index.js';
import { formatPlan, jsonSchema, loadManifest, ManifestError, planForCommand } from '../manifest/index.js';
import type { Plan, RestartPolicy } from '../manifest/types.js';

const err = (text: string) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);

export function resolveManifestPath(file?: string, cwd = process.cwd()): string {
  if (file) return resolve(cwd, file);
  for (const name of ['tend.yaml', 'tend.yml']) {
    const p = resolve(cwd, name);
    if (existsSync(p)) return p;
  }
  return resolve(cwd, 'tend.yaml');
}

export function parseOnly(value: string | undefined): string[] | undefined {
  if (!value) return undefined;
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return names.length ? names : undefined;
}

/** Loads the manifest or prints why not; undefined means "exit 2". */
function loadPlan(opts: { file?: string; only?: string }): Plan | undefined {
  const file = resolveManifestPath(opts.file);
  if (!existsSync(file)) {
    err(
      `tend: no manifest at ${file}\n  create tend.yaml here, pass -f FILE, or use \`tend run -- CMD\` for one command`,
    );
    return undefined;
  }
  try {
    const { plan, warnings } = loadManifest(file, {
      env: process.env,
      only: parseOnly(opts.only ?? process.env.TEND_ONLY),
    });
    for (const w of warnings) err(`tend: warning: ${w}`);
    return plan;
  } catch (e) {
    if (e instanceof ManifestError) {
      err(e.message);
      err(`tend: ${file} is invalid; nothing was started`);
      return undefined;
    }
    throw e;
  }
}

async function runForeground(plan: Plan): Promise<number> {
  const signals = handleSignals();
  // PID 1 / subreaper, pid file, leftovers of a killed run, pid records, sd_notify: claimed before anything
  // else writes to the state folder or spawns
  let guard: import('../guard/index.js').Guard;
  try {
    guard = await (await import('../guard/index.js')).startGuard(plan);
  } catch (e) {
    signals.remove();
    if (e instanceof StartError) {
      err(`tend: ${e.message}`);
      return e.exitCode;
    }
    throw e;
  }
  // readiness/health probes and discovery: per-service hooks plus an attachment binding them to the run
  const checks = (await import('../health/index.js')).healthModule();
  const discovery = (await import('../discovery/index.js')).discoveryModule();
  let running: Running;
  try {
    running = await startUp({
      plan,
      env: guard.env,
      attach: [guard.attachment, ...defaultAttachments(), checks.attach, discovery.attach],
      serviceHooks: [guard.serviceHooks, checks.serviceHooks, discovery.serviceHooks],
      serviceEnv: guard.serviceEnv,
    });
  } catch (e) {
    await guard.release();
    signals.remove();
    if (e instanceof StartError) {
      err(`tend: ${e.message}`);
      return e.exitCode;
    }
    throw e;
  }
  signals.bind(running);
  const code = await running.done;
  signals.remove();
  // Anything still holding the loop open past this point is a bug; don't let it keep a container alive.
  setTimeout(() => process.exit(code), 2000).unref();
  return code;
}

/** The modules `tend up` and `tend run` plug in, in start order. */
function defaultAttachments(): Attachment[] {
  return [
    // control plane first: a second `tend up` on the same state folder is refused before anything starts
    async (rt) => (await import('../control/index.js')).controlAttachment()(rt),
    async (rt) => (await import('../control/index.js')).liveViewAttachment()(rt),
    async (rt) => (await import('../render/attach.js')).renderAttachment()(rt),
  ];
}

export async function upCommand(opts: { file?: string; only?: string; http?: string; kv?: string }) {
  const plan = loadPlan(opts);
  if (!plan) return EXIT.usage;
  if (opts.http) plan.http = opts.http;
  const kv = opts.kv ?? process.env.TEND_KV;
  if (kv) plan.kv = kv;
  return runForeground(plan);
}

export async function runCommand(argv: string[], opts: { name?: string; restart: RestartPolicy }) {
  if (argv.length === 0) {
    err('tend run: give the command after --, e.g. `tend run -- gunicorn app:app`');
    return EXIT.usage;
  }
  const plan = planForCommand({
    name: opts.name,
    argv,
    restart: opts.restart,
    cwd: process.cwd(),
    env: process.env,
  });
  // With no manifest the one command is the stack: when it ends for good, tend ends with its code.
  for (const s of Object.values(plan.services)) s.essential = true;
  return runForeground(plan);
}

export async function checkCommand(opts: { file?: string; only?: string; json?: boolean }) {
  const plan = loadPlan(opts);
  if (!plan) return EXIT.usage;
  process.stdout.write(opts.json ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan));
  // Templates using consul-template's pre-0.18 names (or Vault/Nomad): one line each, naming what to do.
  const { templateNotes } = await import('../template/index.js');
  const notes = templateNotes(
    Object.values(plan.services).flatMap((s) => s.templates),
    plan.dir,
  );
  for (const line of notes) (opts.json ? err : (l: string) => process.stdout.write(`${l}\n`))(line);
  return EXIT.ok;
}

export async function schemaCommand() {
  process.stdout.write(`${JSON.stringify(jsonSchema(), null, 2)}\n`);
  return EXIT.ok;
}
