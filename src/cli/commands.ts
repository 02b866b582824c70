/** Command actions: each parses what it was given, calls a library, prints and returns an exit code. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { EXIT, runForeground } from '../app/index.js';
import {
  formatPlan,
  jsonSchema,
  loadManifest,
  ManifestError,
  planForCommand,
  planToJSON,
} from '../manifest/index.js';
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

export async function upCommand(opts: { file?: string; only?: string; http?: string; kv?: string }) {
  const plan = loadPlan(opts);
  if (!plan) return EXIT.usage;
  if (opts.http) plan.http = opts.http;
  const kv = opts.kv ?? process.env.TEND_KV;
  if (kv) plan.kv = kv;
  return runForeground(plan);
}

export async function runCommand(
  argv: string[],
  opts: {
    name?: string;
    restart: RestartPolicy;
    maxFailures?: string;
    resetAfter?: string;
    backoffMax?: string;
  },
) {
  if (argv.length === 0) {
    err('tend run: give the command after --, e.g. `tend run -- gunicorn app:app`');
    return EXIT.usage;
  }
  let plan: Plan;
  try {
    plan = planForCommand({
      name: opts.name,
      argv,
      restart: opts.restart,
      maxFailures: opts.maxFailures,
      resetAfter: opts.resetAfter,
      backoffMax: opts.backoffMax,
      cwd: process.cwd(),
      env: process.env,
    });
  } catch (e) {
    if (e instanceof ManifestError) {
      err(e.message);
      return EXIT.usage;
    }
    throw e;
  }
  // With no manifest the one command is the stack: when it ends for good, tend ends with its code.
  for (const s of Object.values(plan.services)) s.essential = true;
  return runForeground(plan);
}

export async function checkCommand(opts: { file?: string; only?: string; json?: boolean }) {
  const plan = loadPlan(opts);
  if (!plan) return EXIT.usage;
  // A template that does not parse would fail its service at start: refused here, like a bad manifest key.
  const { checkTemplateSources } = await import('../render/index.js');
  const sources = await checkTemplateSources(plan);
  if (sources.errors.length > 0) {
    for (const line of sources.errors) err(line);
    err('fix the template, then run `tend check` again');
    return EXIT.usage;
  }
  // `rollout:` needs a semaphore in the store: refused here as at start (src/fleet/rollout.ts)
  const { rolloutProblems } = await import('../fleet/index.js');
  const { parseKvUrl, resolveKvUrl } = await import('../kv/index.js');
  let store: { kind: 'file' | 'etcd' | 'consul'; document: boolean } | undefined;
  try {
    const cfg = parseKvUrl(resolveKvUrl({ manifest: plan.kv }));
    store = { kind: cfg.kind, document: cfg.kind === 'file' && cfg.format !== 'dir' };
  } catch {
    store = undefined; // a bad URL is the store's own error at start
  }
  const rolloutErrors = store ? rolloutProblems(plan, store) : [];
  if (rolloutErrors.length > 0) {
    for (const line of rolloutErrors) err(line);
    return EXIT.usage;
  }
  process.stdout.write(opts.json ? planToJSON(plan) : formatPlan(plan));
  for (const line of sources.notes) (opts.json ? err : (l: string) => process.stdout.write(`${l}\n`))(line);
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
