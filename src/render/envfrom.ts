/**
 * env_from, as envconsul does it: every key under a prefix becomes an environment variable named by the key
 * relative to the prefix, with every character outside [A-Za-z0-9_] replaced by `_`, upper-cased.
 * `config/web/db/host` under `config/web` is DB_HOST.
 */
import type { EnvFromPlan } from '../manifest/types.js';

/** The prefix as a folder: `config/web` lists `config/web/…`, not `config/web2/…`. */
export function envPrefix(p: EnvFromPlan): string {
  return p.prefix === '' || p.prefix.endsWith('/') ? p.prefix : `${p.prefix}/`;
}

export function envName(relativeKey: string): string {
  return relativeKey.replace(/[^A-Za-z0-9_]/g, '_').toUpperCase();
}

/**
 * The variables of one service from the pairs under each of its prefixes (in the order of `env_from`: a later
 * prefix wins over an earlier one for the same name). Folder markers (keys ending with `/`) are skipped.
 */
export function envFromPairs(
  list: Array<{ prefix: string; pairs: Array<{ key: string; value: string }> }>,
): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const { prefix, pairs } of list) {
    for (const { key, value } of pairs) {
      if (!key.startsWith(prefix) || key.endsWith('/')) continue;
      const name = envName(key.slice(prefix.length));
      if (name !== '') vars[name] = value;
    }
  }
  return vars;
}

/** Linux's MAX_ARG_STRLEN: one `NAME=value` string of an exec, its final NUL included. */
const MAX_VAR_BYTES = 128 * 1024;

/**
 * Why these variables cannot reach a process, or undefined when they can. exec refuses a NUL byte anywhere in
 * the environment and a `NAME=value` over MAX_ARG_STRLEN (E2BIG): applying such a value would turn a running
 * service into one that cannot start, so the render loop keeps the last good environment instead.
 */
export function envProblem(vars: Record<string, string>): string | undefined {
  for (const [name, value] of Object.entries(vars)) {
    if (value.includes('\0')) return `cannot pass ${name} to a process: its value holds a NUL byte`;
    const bytes = Buffer.byteLength(name) + 1 + Buffer.byteLength(value) + 1;
    if (bytes > MAX_VAR_BYTES)
      return `cannot pass ${name} to a process: ${bytes} bytes is over the 128 KiB a variable may have (E2BIG)`;
  }
  return undefined;
}
