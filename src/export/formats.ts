/**
 * The three variable files of Wazo's proposal (seed 003): a docker-compose `.env`, a systemd
 * `EnvironmentFile`, a Kubernetes `ConfigMap`. Each quotes every value so that its reader gets back exactly
 * the string: spaces, quotes, `$`, `#`, backslashes, newlines, any Unicode.
 */
import { ExportError, type ExportVar } from './vars.js';

export interface Header {
  /** comment lines at the top (without the `# `) */
  comments: string[];
}

function checkValue(v: ExportVar): void {
  if (v.value.includes('\0')) {
    throw new ExportError(
      `${v.name} (from ${v.from}) contains a NUL byte, which no environment variable can hold`,
    );
  }
}

const comment = (lines: string[]) => lines.map((l) => `# ${l.replace(/[\r\n]+/g, ' ')}\n`).join('');

/**
 * docker compose's `.env` / `env_file:` (compose-go's dotenv parser, docker compose v2): single quotes keep a
 * value literally (no `${}` interpolation, no escapes) when it has no `'`, no line break and no trailing `\`
 * (which would escape the closing quote); anything else goes in double quotes with `\\`, `\"`, `\$`, `\n` and
 * `\r` escaped. Not for `docker run --env-file`, which reads each line raw and has no quoting at all.
 */
export function formatDotenv(vars: ExportVar[], header: Header): string {
  let out = comment(header.comments);
  for (const v of vars) {
    checkValue(v);
    out += `${v.name}=${dotenvValue(v.value)}\n`;
  }
  return out;
}

const DOTENV_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '"': '\\"',
  $: '\\$',
  '\n': '\\n',
  '\r': '\\r',
};

export function dotenvValue(value: string): string {
  if (!/['\n\r]/.test(value) && !value.endsWith('\\')) return `'${value}'`;
  return `"${value.replace(/[\\"$\n\r]/g, (c) => DOTENV_ESCAPES[c])}"`;
}

/**
 * systemd's `EnvironmentFile=` (its env-file parser): single quotes are literal, line breaks included, when the
 * value has no `'`; otherwise double quotes, in which only `"`, `\`, `` ` `` and `$` need a backslash. Both
 * forms are also what a POSIX shell reads from `. /etc/default/app`, so the file can be sourced too.
 */
export function formatEnvFile(vars: ExportVar[], header: Header): string {
  let out = comment(header.comments);
  for (const v of vars) {
    checkValue(v);
    out += `${v.name}=${envFileValue(v.value)}\n`;
  }
  return out;
}

export function envFileValue(value: string): string {
  if (!value.includes("'")) return `'${value}'`;
  return `"${value.replace(/[\\"`$]/g, (c) => `\\${c}`)}"`;
}

export interface ConfigMapOptions {
  name: string;
  namespace?: string;
  labels: Record<string, string>;
}

/**
 * A Kubernetes ConfigMap (for `envFrom: [{ configMapRef: { name } }]`). Every key and value is quoted, so
 * that YAML 1.1 readers (kubectl's) never turn `on`, `yes`, `0755` or `1e3` into something else; multi-line
 * values that YAML can hold literally are written as `|` blocks, the rest double-quoted with escapes.
 */
export function formatConfigMap(vars: ExportVar[], opts: ConfigMapOptions, header: Header): string {
  let out = comment(header.comments);
  out += 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n';
  out += `  name: ${yamlQuoted(opts.name)}\n`;
  if (opts.namespace) out += `  namespace: ${yamlQuoted(opts.namespace)}\n`;
  const labels = Object.entries(opts.labels);
  if (labels.length > 0) {
    out += '  labels:\n';
    for (const [k, v] of labels) out += `    ${yamlQuoted(k)}: ${yamlQuoted(v)}\n`;
  }
  if (vars.length === 0) return `${out}data: {}\n`;
  out += 'data:\n';
  for (const v of vars) {
    checkValue(v);
    out += `  ${yamlQuoted(v.name)}: ${yamlValue(v.value, 2)}\n`;
  }
  return out;
}

// YAML's printable characters, less the ones a reader may treat as line breaks or a byte-order mark.
const YAML_PLAIN_CHAR =
  /[\t\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]|[\ud800-\udbff][\udc00-\udfff]/y;

/** A YAML double-quoted scalar; everything outside the printable set is an escape. */
export function yamlQuoted(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; ) {
    YAML_PLAIN_CHAR.lastIndex = i;
    const m = YAML_PLAIN_CHAR.exec(s);
    if (m) {
      const ch = m[0];
      out += ch === '\t' ? '\\t' : ch === '"' ? '\\"' : ch === '\\' ? '\\\\' : ch;
      i += ch.length;
      continue;
    }
    const code = s.charCodeAt(i);
    out += code === 0x0a ? '\\n' : code === 0x0d ? '\\r' : `\\u${code.toString(16).padStart(4, '0')}`;
    i++;
  }
  return `${out}"`;
}

/**
 * A `|` block when the value is lines of printable text (then indented by indent + 2 under its key at
 * indent), else a double-quoted scalar. The indentation indicator makes leading spaces content, and the
 * chomping indicator keeps exactly the trailing line breaks the value has.
 */
function yamlValue(value: string, indent: number): string {
  const lines = value.split('\n');
  const blockable =
    lines.length > 1 &&
    !value.startsWith('\n') &&
    value.trim() !== '' &&
    lines.every((l) => {
      // A line of only blanks, or blanks at a line's end, is content to the spec but not to every reader
      // (eemeli/yaml drops a last line of one space under `|2-`): quote such a value instead.
      if (/[ \t]$/.test(l)) return false;
      for (let i = 0; i < l.length; ) {
        YAML_PLAIN_CHAR.lastIndex = i;
        const m = YAML_PLAIN_CHAR.exec(l);
        if (!m) return false;
        i += m[0].length;
      }
      return true;
    });
  if (!blockable) return yamlQuoted(value);
  let trailing = 0;
  while (trailing < lines.length && lines[lines.length - 1 - trailing] === '') trailing++;
  const chomp = trailing === 0 ? '-' : trailing === 1 ? '' : '+';
  const body = lines.slice(0, lines.length - (trailing === 0 ? 0 : 1));
  const pad = ' '.repeat(indent + 2);
  return `|2${chomp}\n${body.map((l) => (l === '' ? '' : pad + l)).join('\n')}`;
}
