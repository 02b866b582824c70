/**
 * One-shot rendering for the command line: `tend render` (every template of the manifest, once) and
 * `tend template FILE` (one template to stdout). No watch: read what the templates need, render, done.
 */
import { readFile } from 'node:fs/promises';
import type { KvBackend } from '../kv/index.js';
import type { Plan } from '../manifest/types.js';
import { loadSettings } from '../settings/index.js';
import { serviceEnv } from '../supervisor/index.js';
import { parseConsulTemplate, parseJSONData } from '../template/index.js';
import { withTimeout } from '../time/index.js';
import { type CatalogReader, withCatalog } from './catalog-source.js';
import { type Resolved, resolveTemplate } from './resolve.js';
import { createSnapshot, type Snapshot } from './snapshot.js';
import { commitChecked, labelIn, loadTemplate, RENDER_EXIT, templateData, templateEnv } from './unit.js';

export interface RenderAllOptions {
  plan: Plan;
  kv: KvBackend;
  env: NodeJS.ProcessEnv;
  /** print instead of writing (and run no check) */
  dryRun?: boolean;
  /** how long the KV store may take to answer, in all */
  timeoutMs?: number;
  /** the registry, for `service`, `services`, `nodes`, `node` … (without it they count as missing) */
  catalog?: CatalogReader;
}

export interface RenderOutcome {
  service: string;
  source: string;
  destination: string;
  status: 'rendered' | 'unchanged' | 'dry-run' | 'incomplete' | 'error' | 'check-failed';
  reason?: string;
  missing?: string[];
  /** the rendered text, with dryRun */
  output?: string;
}

export interface RenderAllResult {
  outcomes: RenderOutcome[];
  /** 0 all complete; 3 some config is missing; 1 an error (template, check, write, store) */
  exitCode: number;
}

/** the store did not answer in time; the message says what to do */
class Unanswered extends Error {}

/** `p`, unless `at` (ms since epoch) passes first: one deadline shared by every read of a command. */
function deadline<T>(p: Promise<T>, at: number, what: string): Promise<T> {
  return withTimeout(p, Math.max(0, at - Date.now()), () => Promise.reject<T>(new Unanswered(what)));
}

/** `tend render`: every template of every enabled service, in start order. */
export async function renderAll(opts: RenderAllOptions): Promise<RenderAllResult> {
  const { plan, kv } = opts;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const until = Date.now() + timeoutMs;
  const unreachable = `the KV store ${kv.url} did not answer within ${timeoutMs / 1000}s; is it running? (--kv / TEND_KV choose another)`;
  const kvSnapshot = createSnapshot(kv, { baseDir: plan.dir });
  const snapshot = opts.catalog ? withCatalog(kvSnapshot, opts.catalog) : kvSnapshot;
  const label = labelIn(plan.dir);

  let settings: Record<string, unknown>;
  const prefix = plan.settings.kvPrefix;
  try {
    let pairs: Array<{ key: string; value: string }> | undefined;
    if (prefix !== undefined) {
      await deadline(snapshot.fetch({ keys: [], prefixes: [prefix] }), until, unreachable);
      pairs = (snapshot.pairs(prefix) ?? []).map((p) => ({
        key: p.key.slice(prefix.length),
        value: p.value,
      }));
    }
    settings = (await loadSettings(plan.settings, { env: opts.env, kv: pairs })).value;
  } catch (e) {
    const reason = e instanceof Unanswered ? e.message : `settings: ${(e as Error).message}`;
    return {
      outcomes: [{ service: '', source: '', destination: '', status: 'error', reason }],
      exitCode: RENDER_EXIT.error,
    };
  }

  const outcomes: RenderOutcome[] = [];
  for (const name of plan.order) {
    const sp = plan.services[name];
    const env = templateEnv(opts.env, sp);
    // the same environment as under `tend up` (supervisor/env.ts), less what only a running tend has:
    // env_from variables, TEND_SETTINGS_FILE, the instance marker
    const childEnv = serviceEnv({ base: opts.env, app: plan.name, dataDir: plan.dataDir }, sp);
    for (const t of sp.templates) {
      const base = { service: name, source: t.source, destination: t.destination };
      const loaded = await loadTemplate(t, label(t.source));
      if (!loaded.ok) {
        const reason =
          loaded.cause === 'read' ? `cannot read the template: ${loaded.message}` : loaded.message;
        outcomes.push({ ...base, status: 'error', reason });
        continue;
      }
      let res: Resolved;
      try {
        res = await deadline(
          resolveTemplate(loaded.tpl, templateData(plan, sp, settings, env), snapshot, {
            missing: t.missing,
            sentinel: t.sentinel,
            env,
          }),
          until,
          unreachable,
        );
      } catch (e) {
        const reason =
          e instanceof Unanswered ? e.message : `cannot read the KV store: ${(e as Error).message}`;
        outcomes.push({ ...base, status: 'error', reason });
        continue;
      }
      if (res.status === 'error') {
        outcomes.push({ ...base, status: 'error', reason: res.reason });
        continue;
      }
      if (res.status === 'incomplete') {
        outcomes.push({ ...base, status: 'incomplete', reason: res.reason, missing: res.missing });
        continue;
      }
      if (opts.dryRun) {
        outcomes.push({ ...base, status: 'dry-run', output: res.output });
        continue;
      }
      // the operator's preview: a check runs as the service's user only where tend could switch (root)
      const user = process.geteuid?.() === 0 ? sp.runAs : undefined;
      const c = await commitChecked(t, res.output, { env: childEnv, service: name, cwd: plan.dir, user });
      switch (c.status) {
        case 'rendered':
        case 'unchanged':
          outcomes.push({ ...base, status: c.status });
          break;
        case 'check-failed':
          outcomes.push({ ...base, status: c.status, reason: `${c.reason}; the file was left as it was` });
          break;
        case 'error':
          outcomes.push({ ...base, status: c.status, reason: c.reason });
          break;
        case 'aborted':
          // no signal is given: a check here is never aborted
          outcomes.push({ ...base, status: 'error', reason: 'interrupted' });
          break;
        default: {
          const never: never = c;
          throw new Error(`unhandled commit ${JSON.stringify(never)}`);
        }
      }
    }
  }
  const exitCode = outcomes.some((o) => o.status === 'error' || o.status === 'check-failed')
    ? RENDER_EXIT.error
    : outcomes.some((o) => o.status === 'incomplete')
      ? RENDER_EXIT.incomplete
      : RENDER_EXIT.ok;
  return { outcomes, exitCode };
}

export interface TemplateFileOptions {
  file: string;
  dataFile?: string;
  kv: KvBackend;
  env: NodeJS.ProcessEnv;
  /** `file` reads relative paths from here */
  baseDir: string;
  timeoutMs?: number;
  /** the registry, for `service`, `services`, `nodes`, `node` … */
  catalog?: CatalogReader;
}

export type TemplateFileResult =
  | { ok: true; output: string }
  | { ok: false; exitCode: number; message: string };

/**
 * `tend template FILE`: renders with `.` = the JSON data, functions reading the store, fetching what each pass
 * lacked until complete or until nothing new can be fetched. Go-style messages (`template: NAME:LINE:COL: …`).
 */
export async function renderTemplateFile(opts: TemplateFileOptions): Promise<TemplateFileResult> {
  let text: string;
  try {
    text = await readFile(opts.file, 'utf8');
  } catch (e) {
    return {
      ok: false,
      exitCode: RENDER_EXIT.error,
      message: `open ${opts.file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`,
    };
  }
  let data: unknown;
  if (opts.dataFile !== undefined) {
    try {
      data = parseJSONData(await readFile(opts.dataFile, 'utf8'));
    } catch (e) {
      return {
        ok: false,
        exitCode: RENDER_EXIT.error,
        message: `template: data file ${opts.dataFile}: ${(e as Error).message}`,
      };
    }
  }
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const kvSnapshot: Snapshot = createSnapshot(opts.kv, { baseDir: opts.baseDir });
  const snapshot = opts.catalog ? withCatalog(kvSnapshot, opts.catalog) : kvSnapshot;
  let res: Resolved;
  try {
    const tpl = parseConsulTemplate(opts.file, text);
    res = await deadline(
      resolveTemplate(tpl, data, snapshot, { missing: 'wait', env: opts.env }),
      Date.now() + timeoutMs,
      `the KV store ${opts.kv.url} did not answer within ${timeoutMs / 1000}s; is it running? (--kv / TEND_KV choose another)`,
    );
  } catch (e) {
    return { ok: false, exitCode: RENDER_EXIT.error, message: (e as Error).message };
  }
  if (res.status === 'error') return { ok: false, exitCode: RENDER_EXIT.error, message: res.reason };
  if (res.status === 'incomplete') {
    return {
      ok: false,
      exitCode: RENDER_EXIT.incomplete,
      message: `template: ${opts.file}: missing ${res.missing.join(', ')} (not in ${opts.kv.url}); put them in the store, or use keyOrDefault`,
    };
  }
  return { ok: true, output: res.output };
}
