/**
 * One template, the way both `tend up` (./loop.ts) and `tend render` (./once.ts) handle it: load the source,
 * give it its data, and commit the output checked — staged next to the destination, `check` run on the staged
 * file, renamed into place only when the check passed. Resolving against the store is ./resolve.ts.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';
import type { Command, Plan, ServicePlan, TemplatePlan } from '../manifest/types.js';
import { type CommandLine, describeRun, type RunResult, runCommand, type UserIds } from '../procs/index.js';
import type { Template } from '../template/index.js';
import { parseConsulTemplate, TemplateError } from '../template/index.js';
import { formatDuration } from '../time/index.js';
import { type FileRights, isCurrent, readCurrent, removeLeftovers, stage, WriteRefused } from './write.js';

/** the exit codes of `tend render` and `tend template`; 3 is also tend's own for incomplete config (SPEC §2) */
export const RENDER_EXIT = { ok: 0, error: 1, incomplete: 3 } as const;

/** how long a template's `check` may run */
export const CHECK_TIMEOUT_MS = 60_000;

/** A path as the user wrote it: relative to the manifest's folder when inside it. */
export function labelIn(dir: string): (path: string) => string {
  return (p) => {
    const r = relative(dir, p);
    return r === '' || r.startsWith('..') || isAbsolute(r) ? p : r;
  };
}

export type Loaded =
  | { ok: true; tpl: Template }
  /** `read`: the source file could not be read; `parse`: it is not a template (Go-style message) */
  | { ok: false; cause: 'read' | 'parse'; message: string };

/**
 * A template's own error (it does not parse, or fails to execute) said as one: Go's text, whose first words
 * are `template: NAME:LINE:`, becomes `template error in NAME:LINE: …` (NAME is the source as the user wrote
 * it), so that nobody reads it as a missing key.
 */
export function templateErrorText(goMessage: string, source: string): string {
  return goMessage.startsWith('template: ')
    ? `template error in ${goMessage.slice('template: '.length)}`
    : `template error in ${source}: ${goMessage}`;
}

/** Reads and parses a template's source; `name` is what error messages call it. */
export async function loadTemplate(t: TemplatePlan, name: string): Promise<Loaded> {
  let text: string;
  try {
    text = await readFile(t.source, 'utf8');
  } catch (e) {
    return { ok: false, cause: 'read', message: (e as Error).message };
  }
  try {
    return {
      ok: true,
      tpl: parseConsulTemplate(name, text, {
        leftDelim: t.leftDelim,
        rightDelim: t.rightDelim,
        errMissingKey: t.errMissingKey,
        functions: t.functions,
      }),
    };
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    return { ok: false, cause: 'parse', message: e.message };
  }
}

/** The environment a service's templates read (`.Env`, `env`): tend's own overlaid with the service's `env`. */
export function templateEnv(env: NodeJS.ProcessEnv, sp: ServicePlan): Record<string, string | undefined> {
  return { ...env, ...sp.env };
}

/** `.` of a manifest's template (documented in ./index.ts). */
export function templateData(
  plan: Plan,
  sp: ServicePlan,
  settings: Record<string, unknown>,
  env: Record<string, string | undefined>,
) {
  return { App: plan.name, Service: sp.name, Settings: settings, Env: env };
}

export interface CommitOptions {
  /** the environment of `check`; TEND_CHECK_FILE, TEND_SERVICE and TEND_DESTINATION are added */
  env: Record<string, string | undefined>;
  service: string;
  cwd: string;
  /** the service's `user:`: the check runs as it, and so reads the staged file as the service will */
  user?: UserIds;
  /** remove what a crashed tend left next to the destination first */
  sweep?: boolean;
  /** tend is stopping: the check is killed and nothing goes live */
  signal?: AbortSignal;
  /**
   * Where a failing check's output goes, line by line (`tend up`: the service's log). A check may print the
   * file it checked, secrets and all: given this, its output never reaches the reason (events, status, tend's
   * own lines). Without it (`tend render` on the operator's terminal) the last lines go in the reason.
   */
  note?: (line: string) => void;
}

export type Committed =
  | { status: 'rendered' | 'unchanged' }
  | { status: 'check-failed' | 'error'; reason: string }
  /** the signal fired during the check: nothing was written */
  | { status: 'aborted' };

/**
 * Makes `output` the content of the template's destination, unless it already is (compared with the file
 * itself, not a copy: a hand-edited destination is put right at the next render) or its check fails.
 */
export async function commitChecked(t: TemplatePlan, output: string, o: CommitOptions): Promise<Committed> {
  const dest = t.destination;
  if (o.sweep) await removeLeftovers(dest);
  const rights = fileRights(t);
  if (await isCurrent(dest, output, rights)) return { status: 'unchanged' };
  // The same bytes with another owner or mode (a file another user planted, a hand chmod): replaced so that it
  // is tend's again, but the service reads nothing new, so no on_change.
  const sameBytes = (await readCurrent(dest)) === output;
  let staged: Awaited<ReturnType<typeof stage>>;
  try {
    staged = await stage(dest, output, rights);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const hint = err.code === 'EACCES' || err.code === 'EROFS' ? '; make its folder writable' : '';
    return {
      status: 'error',
      reason: `cannot write ${dest}: ${err.message}${e instanceof WriteRefused ? '' : hint}`,
    };
  }
  if (t.check) {
    const r = await runCommand(t.check, {
      cwd: o.cwd,
      env: { ...o.env, TEND_CHECK_FILE: staged.path, TEND_SERVICE: o.service, TEND_DESTINATION: dest },
      uid: o.user?.uid,
      gid: o.user?.gid,
      groups: o.user?.groups,
      timeoutMs: CHECK_TIMEOUT_MS,
      signal: o.signal,
    });
    if (!r.ok || o.signal?.aborted) {
      await staged.discard();
      if (o.signal?.aborted) return { status: 'aborted' };
      if (o.note) {
        const lines = r.output.trim() ? r.output.trim().split('\n').slice(-20) : [];
        for (const line of lines) o.note(`check of ${dest}: ${line}`);
        const where =
          lines.length > 0 ? `; its output is in the log of ${o.service} (tend logs ${o.service})` : '';
        return {
          status: 'check-failed',
          reason: `check failed (${describeEnd(r, CHECK_TIMEOUT_MS)})${where}`,
        };
      }
      return {
        status: 'check-failed',
        reason: `check failed (${describeEnd(r, CHECK_TIMEOUT_MS)})${outputTail(r.output)}`,
      };
    }
  }
  try {
    await staged.commit();
  } catch (e) {
    return { status: 'error', reason: `cannot replace ${dest}: ${(e as Error).message}` };
  }
  return { status: sameBytes ? 'unchanged' : 'rendered' };
}

/**
 * The mode and owner of a template's file: its `perms` (the loader fills in 0640), its `user` and `group`;
 * without a `group`, when tend runs as root and the service runs as another user (`user:`), that user's group,
 * so the service can read its own 0640 config without the file being its to change.
 */
export function fileRights(t: TemplatePlan): FileRights {
  const root = process.geteuid?.() === 0;
  return { perms: t.perms, uid: t.uid, gid: t.gid ?? (root ? t.readerGid : undefined) };
}

/** A manifest command as the runner takes it: a shell string, or an argv run directly. */
export function commandLine(c: Command): CommandLine {
  switch (c.kind) {
    case 'shell':
      return c.script;
    case 'argv':
      return c.argv;
    default: {
      const never: never = c;
      throw new Error(`unhandled command ${JSON.stringify(never)}`);
    }
  }
}

/** How a check or on_change command ended, for its reason: a timeout and tend stopping named as such. */
export function describeEnd(r: RunResult, timeoutMs: number): string {
  if (r.aborted) return 'interrupted: tend is stopping';
  if (r.timedOut) return `did not finish within ${formatDuration(timeoutMs)}; killed`;
  return describeRun(r);
}

/** the last lines of a command's output, for a one-line reason */
export function outputTail(output: string): string {
  const tail = output.trim().split('\n').slice(-3).join(' | ');
  return tail ? `: ${tail}` : '';
}

export interface SourceCheck {
  /** templates that do not parse: `template error in FILE:LINE: …`, naming the service */
  errors: string[];
  /** sources that cannot be read yet (generated at boot, say): parsed when they render */
  notes: string[];
}

/**
 * For `tend check`: parses every template source of the plan that can be read, with the options its
 * template gives (delimiters, `functions:`), so that a template error is refused before anything starts.
 */
export async function checkTemplateSources(plan: Plan): Promise<SourceCheck> {
  const label = labelIn(plan.dir);
  const errors: string[] = [];
  const notes: string[] = [];
  const seen = new Set<string>();
  for (const name of plan.order) {
    const sp = plan.services[name];
    if (!sp) continue;
    for (const t of sp.templates) {
      // one line per source and way of parsing it (two services may share a source)
      const key = JSON.stringify([t.source, t.leftDelim, t.rightDelim, t.errMissingKey, t.functions]);
      if (seen.has(key)) continue;
      seen.add(key);
      const loaded = await loadTemplate(t, label(t.source));
      if (loaded.ok) continue;
      if (loaded.cause === 'read') {
        notes.push(
          `note: ${label(t.source)} (template of ${name}) cannot be read now (${loaded.message}): it is parsed when it renders`,
        );
      } else {
        errors.push(`${templateErrorText(loaded.message, label(t.source))} (template of ${name})`);
      }
    }
  }
  return { errors, notes };
}
