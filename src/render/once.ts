/**
 * One-shot rendering for the command line: `tend render` (every template of the manifest, once) and
 * `tend template FILE` (one template to stdout). No watch: read what the templates need, render, done.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';
import type { KvBackend } from '../kv/index.js';
import { describeResult, runCommand } from '../lifecycle/command.js';
import { effectiveSettings } from '../lifecycle/settings.js';
import type { Plan } from '../manifest/types.js';
import { parseConsulTemplate, parseJSONData, TemplateError } from '../template/index.js';
import { type Resolved, resolveTemplate } from './resolve.js';
import { createSnapshot, type Snapshot } from './snapshot.js';
import { readCurrent, stage } from './write.js';

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_INCOMPLETE = 3;

const CHECK_TIMEOUT_MS = 60_000;

export interface RenderAllOptions {
  plan: Plan;
  kv: KvBackend;
  env: NodeJS.ProcessEnv;
  /** print instead of writing (and run no check) */
  dryRun?: boolean;
  /** how long the KV store may take to answer, in all */
  timeoutMs?: number;
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

class Timeout extends Error {}

function deadline<T>(p: Promise<T>, at: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Timeout(what)), Math.max(0, at - Date.now()));
    }),
  ]).finally(() => clearTimeout(timer));
}

/** `tend render`: every template of every enabled service, in start order. */
export async function renderAll(opts: RenderAllOptions): Promise<RenderAllResult> {
  const { plan, kv } = opts;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const until = Date.now() + timeoutMs;
  const unreachable = `the KV store ${kv.url} did not answer within ${timeoutMs / 1000}s; is it running? (--kv / TEND_KV choose another)`;
  const snapshot = createSnapshot(kv, { baseDir: plan.dir });
  const label = (p: string) => {
    const r = relative(plan.dir, p);
    return r === '' || r.startsWith('..') || isAbsolute(r) ? p : r;
  };

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
    settings = (await effectiveSettings(plan, opts.env, pairs)).value;
  } catch (e) {
    const reason = e instanceof Timeout ? e.message : `settings: ${(e as Error).message}`;
    return {
      outcomes: [{ service: '', source: '', destination: '', status: 'error', reason }],
      exitCode: EXIT_ERROR,
    };
  }

  const outcomes: RenderOutcome[] = [];
  for (const name of plan.order) {
    const sp = plan.services[name];
    const env = { ...opts.env, ...sp.env };
    for (const t of sp.templates) {
      const base = { service: name, source: t.source, destination: t.destination };
      let text: string;
      try {
        text = await readFile(t.source, 'utf8');
      } catch (e) {
        outcomes.push({
          ...base,
          status: 'error',
          reason: `cannot read the template: ${(e as Error).message}`,
        });
        continue;
      }
      let res: Resolved;
      try {
        const tpl = parseConsulTemplate(label(t.source), text, {
          leftDelim: t.leftDelim,
          rightDelim: t.rightDelim,
          errMissingKey: t.errMissingKey,
          functions: t.functions,
        });
        res = await deadline(
          resolveTemplate(tpl, { App: plan.name, Service: name, Settings: settings, Env: env }, snapshot, {
            missing: t.missing,
            sentinel: t.sentinel,
            env,
          }),
          until,
          unreachable,
        );
      } catch (e) {
        if (e instanceof TemplateError || e instanceof Timeout) {
          outcomes.push({ ...base, status: 'error', reason: e.message });
          continue;
        }
        outcomes.push({
          ...base,
          status: 'error',
          reason: `cannot read the KV store: ${(e as Error).message}`,
        });
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
      outcomes.push({ ...base, ...(await writeChecked(plan, t, env, res.output)) });
    }
  }
  const exitCode = outcomes.some((o) => o.status === 'error' || o.status === 'check-failed')
    ? EXIT_ERROR
    : outcomes.some((o) => o.status === 'incomplete')
      ? EXIT_INCOMPLETE
      : EXIT_OK;
  return { outcomes, exitCode };
}

async function writeChecked(
  plan: Plan,
  t: Plan['services'][string]['templates'][number],
  env: NodeJS.ProcessEnv,
  output: string,
): Promise<Pick<RenderOutcome, 'status' | 'reason'>> {
  if ((await readCurrent(t.destination)) === output) return { status: 'unchanged' };
  try {
    const staged = await stage(t.destination, output, { perms: t.perms });
    if (t.check) {
      const r = await runCommand(
        { kind: 'shell', script: t.check },
        {
          cwd: plan.dir,
          env: { ...env, TEND_CHECK_FILE: staged.path, TEND_DESTINATION: t.destination },
          timeoutMs: CHECK_TIMEOUT_MS,
        },
      );
      if (!r.ok) {
        await staged.discard();
        const tail = r.output.trim().split('\n').slice(-3).join(' | ');
        return {
          status: 'check-failed',
          reason: `check failed (${describeResult(r, CHECK_TIMEOUT_MS)})${tail ? `: ${tail}` : ''}; the file was left as it was`,
        };
      }
    }
    await staged.commit();
    return { status: 'rendered' };
  } catch (e) {
    return { status: 'error', reason: `cannot write ${t.destination}: ${(e as Error).message}` };
  }
}

export interface TemplateFileOptions {
  file: string;
  dataFile?: string;
  kv: KvBackend;
  env: NodeJS.ProcessEnv;
  /** `file` reads relative paths from here */
  baseDir: string;
  timeoutMs?: number;
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
      exitCode: EXIT_ERROR,
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
        exitCode: EXIT_ERROR,
        message: `template: data file ${opts.dataFile}: ${(e as Error).message}`,
      };
    }
  }
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const snapshot: Snapshot = createSnapshot(opts.kv, { baseDir: opts.baseDir });
  let res: Resolved;
  try {
    const tpl = parseConsulTemplate(opts.file, text);
    res = await deadline(
      resolveTemplate(tpl, data, snapshot, { missing: 'wait', env: opts.env }),
      Date.now() + timeoutMs,
      `the KV store ${opts.kv.url} did not answer within ${timeoutMs / 1000}s; is it running? (--kv / TEND_KV choose another)`,
    );
  } catch (e) {
    return { ok: false, exitCode: EXIT_ERROR, message: (e as Error).message };
  }
  if (res.status === 'error') return { ok: false, exitCode: EXIT_ERROR, message: res.reason };
  if (res.status === 'incomplete') {
    return {
      ok: false,
      exitCode: EXIT_INCOMPLETE,
      message: `template: ${opts.file}: missing ${res.missing.join(', ')} (not in ${opts.kv.url}); put them in the store, or use keyOrDefault`,
    };
  }
  return { ok: true, output: res.output };
}
