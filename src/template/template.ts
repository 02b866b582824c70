/** Parsing and executing templates: the text/template half of the public API. */
import { builtinFuncs } from './builtins.js';
import { TemplateError } from './errors.js';
import { type ExecEnv, executeTree, type FuncMap, type FuncSpec, type MissingKey, toSpec } from './exec.js';
import { quote } from './fmt.js';
import { parseTrees, type Tree } from './parse.js';

const BUILTINS = builtinFuncs();

export interface ParseOptions {
  leftDelim?: string;
  rightDelim?: string;
  /** Go's Option("missingkey=…"); default prints `<no value>`. */
  missingKey?: MissingKey;
  /** Functions the template may call, besides the built-ins. */
  funcs?: FuncMap;
}

export interface ExecuteOptions {
  /** Run this associated template (a {{define}}) instead of the top-level one. */
  name?: string;
  missingKey?: MissingKey;
  /**
   * Implementations to use for this run, replacing those given at parse time by name. A template
   * must know its function names when parsed; their behaviour may depend on the run.
   */
  funcs?: FuncMap;
}

/** A parsed template and its associated templates ({{define}}, {{block}}). Immutable. */
export interface Template {
  readonly name: string;
  readonly trees: ReadonlyMap<string, Tree>;
  readonly funcs: ReadonlyMap<string, FuncSpec>;
  readonly missingKey: MissingKey;
}

function goodName(name: string): boolean {
  return /^[\p{L}_][\p{L}\p{Nd}_]*$/u.test(name);
}

function specMap(funcs: FuncMap | undefined): Map<string, FuncSpec> {
  const m = new Map<string, FuncSpec>();
  if (!funcs) return m;
  for (const [name, f] of Object.entries(funcs)) {
    if (!goodName(name))
      throw new TemplateError(`function name ${quote(name)} is not a valid identifier`, 'parse');
    m.set(name, toSpec(f));
  }
  return m;
}

/** Parse `text` as template `name` (Go's template.New(name).Funcs(…).Parse(text)). */
export function parse(name: string, text: string, opts: ParseOptions = {}): Template {
  const funcs = specMap(opts.funcs);
  const trees = parseTrees(name, text, {
    leftDelim: opts.leftDelim,
    rightDelim: opts.rightDelim,
    hasFunction: (n) => funcs.has(n) || BUILTINS.has(n),
  });
  return { name, trees, funcs, missingKey: opts.missingKey ?? 'default' };
}

/** Execute a parsed template with `data` as dot. Synchronous; throws TemplateError like Go. */
export function execute(tpl: Template, data: unknown, opts: ExecuteOptions = {}): string {
  let funcs = tpl.funcs as Map<string, FuncSpec>;
  if (opts.funcs) {
    funcs = new Map(funcs);
    for (const [n, f] of specMap(opts.funcs)) funcs.set(n, f);
  }
  const env: ExecEnv = {
    trees: tpl.trees as Map<string, Tree>,
    funcs,
    builtins: BUILTINS,
    missingKey: opts.missingKey ?? tpl.missingKey,
  };
  const name = opts.name ?? tpl.name;
  const tree = tpl.trees.get(name);
  if (opts.name !== undefined && !tree) {
    throw new TemplateError(
      `template: no template ${quote(name)} associated with template ${quote(tpl.name)}`,
      'exec',
    );
  }
  return executeTree(env, tree, name, data);
}

/** Names of the built-in functions (and, or, printf, …). */
export function builtinNames(): string[] {
  return [...BUILTINS.keys()];
}
