/**
 * tend's template engine: Go's text/template, faithfully, with consul-template's functions.
 * A pure library: it knows nothing about KV stores; callers hand it a synchronous
 * TemplateSource (a snapshot) and get back the output plus everything the render read.
 *
 * Public API
 * - parse(name, text, opts?) → Template              (throws TemplateError, kind 'parse')
 * - execute(tpl, data, opts?) → string               (throws TemplateError, kind 'exec')
 * - renderWithSource(tplOrText, data, source, opts?) → RenderResult
 *     consul-template's multi-pass model: functions whose data the source does not know yet
 *     (`undefined`), and `key` on an absent key, are listed in `missing`; `deps` lists every key,
 *     prefix, service, catalog, file and env var read. A template is complete when `missing`
 *     is empty. On an execution error with `missing` non-empty, `error` is set instead of
 *     throwing (incomplete data often causes it); with nothing missing the error is thrown.
 * - renderFileOnce({ file, data?, dataFile?, source? }) → { output, deps, missing }
 *     for `tend template FILE [--data JSON_FILE]`: throws TemplateError with Go's message.
 * - memorySource({ kv, services, files, env, readFiles }) → TemplateSource over plain data.
 * - parseJSONData(text): JSON → template data; integers are Go ints, numbers written with a
 *   fraction or exponent are float64 (`goFloat(n)` marks such a float when building data by hand).
 *
 * Data model (see values.ts): JSON/JS values map to Go's `interface{}` world. Maps iterate in
 * sorted key order; `null` is a nil interface. `parse` follows Go (a missing key prints `<no value>`);
 * `parseConsulTemplate` follows consul-template: `missingkey=zero` (a missing key of a map[string]string
 * is `""`, of a map[string]interface{} still `<no value>`), or `missingkey=error` with `errMissingKey`.
 */
import { readFileSync } from 'node:fs';
import { basename, isAbsolute, relative } from 'node:path';
import { type ConsulFuncOptions, consulFuncs } from './consul.js';
import { TemplateError } from './errors.js';
import type { FuncMap, FuncSpec } from './exec.js';
import { calledNames, deniedFunc, type FunctionPolicy, oldNamesUsed, UNSUPPORTED } from './policy.js';
import { type Deps, emptyDeps, memorySource, Recorder, type TemplateSource } from './source.js';
import { execute, type ParseOptions, parse, type Template } from './template.js';
import { GoFloat, parseJSONData } from './values.js';

export { boundedReplace, boundedTest, REGEXP_BUDGET_MS, RegexpBudgetError } from './bounded-regexp.js';
export { TemplateError } from './errors.js';
export type { FuncMap, FuncSpec, MissingKey, ParamType, TemplateFunc } from './exec.js';
export { sprintf } from './fmt.js';
export {
  DISABLED_BY_DEFAULT,
  type FunctionPolicy,
  OLD_NAMES,
  oldNamesUsed,
  UNSUPPORTED,
} from './policy.js';
export {
  type CatalogService,
  type Deps,
  type KVPair,
  type MemorySourceInit,
  memorySource,
  type ServiceInput,
  type ServiceInstance,
  type TemplateSource,
} from './source.js';
export {
  builtinNames,
  type ExecuteOptions,
  execute,
  type ParseOptions,
  parse,
  type Template,
} from './template.js';
export { parseJSONData } from './values.js';

/** A float64 for hand-built data whose value is integral (`goFloat(2)` prints `2`, is `%T` float64). */
export function goFloat(n: number): GoFloat {
  return new GoFloat(n);
}

export interface RenderOptions extends Omit<ConsulFuncOptions, 'executeTemplate'> {
  /** Template name when `text` is given (errors read `template: NAME:…`). Default `template`. */
  name?: string;
  leftDelim?: string;
  rightDelim?: string;
  missingKey?: ParseOptions['missingKey'];
  /** With `text`: consul-template's `err_missing_key` (default: Go's `missingkey=zero`). */
  errMissingKey?: boolean;
  /** With `text`: which functions the template may call (a parsed template keeps its own). */
  functions?: FunctionPolicy;
  /** Extra functions, available besides consul-template's. */
  funcs?: FuncMap;
}

export interface RenderResult {
  output: string;
  deps: Deps;
  /** What blocked this render: `key:PATH`, `prefix:PATH`, `service:QUERY`, `services:@DC`, `file:PATH`. */
  missing: string[];
  /** Set only when execution failed while data was missing. */
  error?: TemplateError;
}

const placeholder: FuncSpec = {
  params: [],
  variadic: 'any',
  fn: () => {
    throw new Error('function is not bound to a source');
  },
};

let names: readonly string[] | undefined;

/**
 * Every function name a template may call besides Go's built-ins: consul-template's map as tend binds it
 * (with the old aliases and the Vault/Nomad names), derived from the map itself so it cannot drift.
 */
export function templateFunctionNames(): readonly string[] {
  if (!names) names = [...consulFuncs(new Recorder(memorySource({ env: {} }))).keys()].sort();
  return names;
}

function placeholderFuncs(extra?: FuncMap): FuncMap {
  const m: FuncMap = {};
  for (const n of templateFunctionNames()) m[n] = placeholder;
  return { ...m, ...extra };
}

export interface ConsulParseOptions extends ParseOptions {
  /**
   * consul-template's `err_missing_key`: a map key that is not there fails the render. Otherwise a template
   * runs with Go's `missingkey=zero`, as consul-template's do (see `missingKey` to choose another).
   */
  errMissingKey?: boolean;
  /** Which functions this template may call (see FunctionPolicy). */
  functions?: FunctionPolicy;
}

const policies = new WeakMap<Template, FunctionPolicy>();

/** Parse a template that may use consul-template's functions (bound later, per render). */
export function parseConsulTemplate(name: string, text: string, opts: ConsulParseOptions = {}): Template {
  const { errMissingKey, functions, ...rest } = opts;
  const missingKey = rest.missingKey ?? (errMissingKey ? 'error' : 'zero');
  const t = parse(name, text, { ...rest, missingKey, funcs: placeholderFuncs(opts.funcs) });
  if (functions) policies.set(t, functions);
  return t;
}

/** Render once against a source snapshot; see the module comment for the multi-pass model. */
export function renderWithSource(
  tpl: Template | string,
  data: unknown,
  source: TemplateSource,
  opts: RenderOptions = {},
): RenderResult {
  const t =
    typeof tpl === 'string'
      ? parseConsulTemplate(opts.name ?? 'template', tpl, {
          leftDelim: opts.leftDelim,
          rightDelim: opts.rightDelim,
          missingKey: opts.missingKey,
          errMissingKey: opts.errMissingKey,
          functions: opts.functions,
          funcs: opts.funcs,
        })
      : tpl;
  const policy = policies.get(t) ?? opts.functions ?? {};
  const allowed = new Set(policy.allow ?? []);
  const rec = new Recorder(source);
  const funcs: Map<string, FuncSpec> = consulFuncs(rec, {
    ...opts,
    allowPlugin: opts.allowPlugin || allowed.has('plugin'),
    allowWriteToFile: opts.allowWriteToFile || allowed.has('writeToFile'),
    executeTemplate: (name, dot) => execute(t, dot, { name, funcs: bound }),
  });
  for (const n of policy.deny ?? []) if (funcs.has(n)) funcs.set(n, deniedFunc(n));
  const bound: FuncMap = Object.fromEntries(funcs);
  if (opts.funcs) Object.assign(bound, opts.funcs);
  try {
    const output = execute(t, data, { funcs: bound, missingKey: opts.missingKey });
    return { output, deps: rec.deps(), missing: rec.missing() };
  } catch (e) {
    const missing = rec.missing();
    if (e instanceof TemplateError && missing.length > 0)
      return { output: '', deps: rec.deps(), missing, error: e };
    throw e;
  }
}

export interface RenderFileOnceOptions {
  /** Template file; its base name names the template in errors, as Go's ParseFiles does. */
  file: string;
  /** Dot. Takes precedence over dataFile. */
  data?: unknown;
  /** JSON file read with parseJSONData. */
  dataFile?: string;
  /** Where functions read; default an empty memory source that reads files from disk. */
  source?: TemplateSource;
  render?: RenderOptions;
}

/** `tend template FILE [--data JSON_FILE]`: render once; throws TemplateError on failure. */
export function renderFileOnce(opts: RenderFileOnceOptions): RenderResult {
  const text = readFileSync(opts.file, 'utf8');
  let data = opts.data;
  if (data === undefined && opts.dataFile !== undefined) {
    try {
      data = parseJSONData(readFileSync(opts.dataFile, 'utf8'));
    } catch (e) {
      throw new TemplateError(`template: data file ${opts.dataFile}: ${(e as Error).message}`, 'exec');
    }
  }
  const source = opts.source ?? memorySource({ readFiles: true });
  const name = opts.render?.name ?? basename(opts.file);
  return renderWithSource(text, data, source, { ...opts.render, name });
}

/**
 * For `tend check`: notes on template files, one line per file and kind. A file that calls a function by its
 * name from before consul-template 0.18 (`key_or_default`) gets the current names; one that calls Vault or
 * Nomad functions is told they will fail when the call runs. Files that cannot be read are left to the render.
 */
export function templateNotes(
  templates: readonly { source: string; leftDelim?: string; rightDelim?: string }[],
  baseDir?: string,
): string[] {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const t of templates) {
    if (seen.has(t.source)) continue;
    seen.add(t.source);
    let text: string;
    try {
      text = readFileSync(t.source, 'utf8');
    } catch {
      continue;
    }
    const rel = baseDir === undefined ? t.source : relative(baseDir, t.source);
    const shown = rel === '' || rel.startsWith('..') || isAbsolute(rel) ? t.source : rel;
    const old = oldNamesUsed(text, t.leftDelim, t.rightDelim);
    if (old.length > 0) {
      lines.push(
        `note: ${shown} uses ${old.map((u) => `${u.old} (now ${u.current})`).join(', ')}: names from before consul-template 0.18; they still work`,
      );
    }
    const called = calledNames(text, t.leftDelim, t.rightDelim);
    const unsupported = Object.keys(UNSUPPORTED).filter((n) => called.has(n));
    if (unsupported.length > 0) {
      const needs = [...new Set(unsupported.map((n) => UNSUPPORTED[n]))].join(' or ');
      lines.push(
        `note: ${shown} calls ${unsupported.join(', ')}: tend has no ${needs} support, so a render fails if the call runs (docs/templates.md)`,
      );
    }
  }
  return lines;
}

export { emptyDeps };
