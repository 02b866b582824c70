/**
 * Which functions a template may call: consul-template's `function_denylist`, spelled the tend way as a
 * per-template `functions: { allow: [...], deny: [...] }`, and tend's safer default: `plugin` (runs programs)
 * and `writeToFile` (writes files outside the template's destination) are off until a template allows them.
 * Also the functions tend knows by name but cannot run (Vault, Nomad), and the pre-0.18 aliases.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { makeDirSync } from '../fsx/index.js';
import type { FuncSpec } from './exec.js';
import { Lexer, T } from './lex.js';
import { DISABLED_BY_DEFAULT } from './names.js';

export interface FunctionPolicy {
  /** Functions off by default that this template may call (`plugin`, `writeToFile`). */
  allow?: readonly string[];
  /** Functions this template may not call: calling one fails, naming this option. */
  deny?: readonly string[];
}

// in names.ts, which the manifest reads without loading the engine
export { DISABLED_BY_DEFAULT };

/**
 * consul-template's names from before 0.18 (January 2017), still found in long-lived templates. They render
 * exactly as the current names; `tend check` suggests the current one.
 */
export const OLD_NAMES: Readonly<Record<string, string>> = {
  key_or_default: 'keyOrDefault',
  key_exists: 'keyExists',
};

/**
 * Functions of consul-template 0.42's map that need Vault or Nomad. tend knows their names, so a template
 * using one parses; calling one fails with a message pointing at docs/templates.md (a template may well hold
 * such a call in a branch it never takes, as consul-template templates shared between setups do).
 */
export const UNSUPPORTED: Readonly<Record<string, 'Vault' | 'Nomad'>> = {
  secret: 'Vault',
  secrets: 'Vault',
  pkiCert: 'Vault',
  nomadService: 'Nomad',
  nomadServices: 'Nomad',
  nomadVar: 'Nomad',
  nomadVarExists: 'Nomad',
  nomadVarList: 'Nomad',
  nomadVarListSafe: 'Nomad',
};

export function unsupportedFunc(name: string, what: 'Vault' | 'Nomad'): FuncSpec {
  return {
    params: [],
    variadic: 'any',
    fn: () => {
      throw new Error(`${name} needs ${what}, which tend does not support (docs/templates.md)`);
    },
  };
}

export function deniedFunc(name: string): FuncSpec {
  return {
    params: [],
    variadic: 'any',
    fn: () => {
      throw new Error(`${name} is denied by this template's functions.deny in the manifest`);
    },
  };
}

export function disabledFunc(name: string): FuncSpec {
  return {
    params: [],
    variadic: 'any',
    fn: () => {
      throw new Error(
        `${name} is disabled: it reaches outside the template, so a template must allow it with \`functions: { allow: [${name}] }\` in the manifest (docs/templates.md)`,
      );
    },
  };
}

/**
 * The identifiers a template calls as functions, from its tokens (comments and strings cannot fool it).
 * Fields (`.key_exists`) and variables are not functions; an identifier after `{{ define` is a string.
 */
export function calledNames(text: string, leftDelim = '{{', rightDelim = '}}'): Set<string> {
  const names = new Set<string>();
  try {
    for (const t of new Lexer(text, leftDelim, rightDelim, false, true, true).run())
      if (t.typ === T.Identifier) names.add(t.val);
  } catch {
    // A template that does not lex has nothing to suggest; parsing it reports the error.
  }
  return names;
}

/** Old names (`key_or_default`) a template source calls, each with its current name, in order of the table. */
export function oldNamesUsed(
  text: string,
  leftDelim = '{{',
  rightDelim = '}}',
): { old: string; current: string }[] {
  const called = calledNames(text, leftDelim, rightDelim);
  return Object.entries(OLD_NAMES)
    .filter(([old]) => called.has(old))
    .map(([old, current]) => ({ old, current }));
}

/** consul-template's plugin: run NAME with the trimmed non-empty ARGS, 30 s at most, stdout trimmed. */
export function runPluginSync(name: string, args: string[]): string {
  const r = spawnSync(name, args, { encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
    throw new Error(`exec ${JSON.stringify(name)}: did not finish in 30s`);
  }
  if (r.error) throw new Error(`exec ${JSON.stringify(name)}: ${r.error.message}`);
  if (r.status !== 0) {
    const why = r.signal ? `signal: ${r.signal}` : `exit status ${r.status}`;
    throw new Error(
      `exec ${JSON.stringify(name)}: ${why}\n\nstdout:\n\n${r.stdout}\n\nstderr:\n\n${r.stderr}`,
    );
  }
  return r.stdout;
}

function lookupId(file: string, name: string, what: string): number {
  if (/^\d+$/.test(name)) return Number(name);
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // no database: only numeric ids work
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length > 2) return Number(f[2]);
  }
  throw new Error(`${what}: unknown ${what} ${name}`);
}

/** consul-template's writeToFile: create (or append to) PATH, then chown (when given) and chmod. */
export function writeToFileSync(
  path: string,
  content: string,
  perms: number,
  append: boolean,
  owner?: { user: string; group: string },
): void {
  if (append) appendFileSync(path, content, { mode: perms });
  else {
    makeDirSync(dirname(path));
    writeFileSync(path, content);
  }
  if (owner && (owner.user !== '' || owner.group !== '')) {
    const uid = owner.user === '' ? (process.getuid?.() ?? -1) : lookupId('/etc/passwd', owner.user, 'user');
    const gid =
      owner.group === '' ? (process.getgid?.() ?? -1) : lookupId('/etc/group', owner.group, 'group');
    chownSync(path, uid, gid);
  }
  chmodSync(path, perms);
}
