/** tend.yaml → Plan: parse with positions, interpolate, decode, check, fill defaults. */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { afterGraphOfTree, type BuildCx, buildPlan, checkAfter } from './build.js';
import { ManifestError, type ManifestIssue } from './errors.js';
import { INVALID } from './kit.js';
import { manifest } from './schema.js';
import { type Note, type Pos, parseTree } from './tree.js';
import type { Plan } from './types.js';

export interface LoadOptions {
  /** variables for `${VAR}` (default: process.env) */
  env?: NodeJS.ProcessEnv;
  /** `--only a,b` / `TEND_ONLY`: enable just these services (an empty list means no filter) */
  only?: string[];
}

export interface Loaded {
  plan: Plan;
  /** `file:line:column: message`, e.g. unset variables and dropped dependencies */
  warnings: string[];
}

/** Reads and loads a manifest; throws ManifestError listing every problem. */
export function loadManifest(file: string, opts: LoadOptions = {}): Loaded {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new ManifestError([{ file, line: 0, column: 0, message: `cannot read the manifest: ${why}` }]);
  }
  return parseManifestText(text, file, opts);
}

/**
 * Loads a manifest from text. `fileName` names it in messages and places it: relative paths in the manifest
 * resolve against its folder (relative to the current directory if `fileName` is relative).
 */
export function parseManifestText(text: string, fileName: string, opts: LoadOptions = {}): Loaded {
  try {
    return parse(text, fileName, opts);
  } catch (e) {
    // A document nested thousands deep exhausts the stack in the YAML parser or in the tree walk after it
    // (which one depends on the thread's stack size): an invalid manifest all the same, never a crash.
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw new ManifestError([
        {
          file: fileName,
          line: 0,
          column: 0,
          message: 'nested too deeply to be a manifest (the parser ran out of stack)',
        },
      ]);
    }
    throw e;
  }
}

function parse(text: string, fileName: string, opts: LoadOptions): Loaded {
  const abs = resolve(fileName);
  const dir = dirname(abs);
  const errors: Note[] = [];
  const warnings: Note[] = [];
  const tree = parseTree(text, opts.env ?? process.env);
  errors.push(...tree.errors);
  warnings.push(...tree.warnings);

  let plan: Plan | undefined;
  if (!tree.fatal) {
    const cx: BuildCx = {
      dir,
      error: (pos: Pos, message: string) => errors.push({ pos, message }),
      warn: (pos: Pos, message: string) => warnings.push({ pos, message }),
    };
    const raw = manifest.decode(tree.root, cx, []);
    // Checks across services still run after a bad `${...}`, so one pass reports everything it can.
    if (raw !== INVALID) plan = buildPlan(raw, cx, { file: abs, only: opts.only });
    else {
      const graph = afterGraphOfTree(tree.root);
      if (graph) checkAfter(graph, cx.error);
    }
  }
  if (errors.length > 0 || !plan) throw new ManifestError(issues(errors, fileName));
  return {
    plan,
    warnings: issues(warnings, fileName).map((i) => `${i.file}:${i.line}:${i.column}: ${i.message}`),
  };
}

function issues(notes: Note[], file: string): ManifestIssue[] {
  const seen = new Set<string>();
  const out: ManifestIssue[] = [];
  const sorted = [...notes].sort((a, b) => a.pos.line - b.pos.line || a.pos.column - b.pos.column);
  for (const n of sorted) {
    const key = `${n.pos.line}:${n.pos.column}:${n.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ file, line: n.pos.line, column: n.pos.column, message: n.message });
  }
  return out;
}
