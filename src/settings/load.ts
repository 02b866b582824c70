import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
// Types only: ajv (~8 MiB of memory, ~30 ms to load) is imported when a schema is configured.
import type { ErrorObject, ValidateFunction } from 'ajv';
import YAML from 'yaml';
import type { SettingsPlan } from '../manifest/types.js';
import { formatIssue, SettingsError, type SettingsIssue } from './errors.js';
import { JsonSyntaxError, parseJson } from './json.js';
import { isPlainObject, type JsonObject, mergeInto, type Origins, originOf, overlayAt } from './merge.js';

export interface LoadSettingsOptions {
  env: NodeJS.ProcessEnv;
  /** pairs under the plan's kv_prefix, keys relative to it (`db/port`) */
  kv?: Array<{ key: string; value: string }>;
}

export interface LoadedSettings {
  value: Record<string, unknown>;
  /** what contributed, in merge order: `defaults`, file paths, `$CFG`, `kv:<prefix>` */
  sources: string[];
}

const DEFAULT_ENV = 'CFG';

export async function loadSettings(plan: SettingsPlan, opts: LoadSettingsOptions): Promise<LoadedSettings> {
  const origins: Origins = new Map();
  const sources: string[] = [];
  let value: JsonObject = {};
  const layer = (over: JsonObject, label: string) => {
    value = mergeInto(value, over, [], label, origins) as JsonObject;
    sources.push(label);
  };

  if (Object.keys(plan.defaults ?? {}).length > 0) layer(plan.defaults, 'defaults');
  if (plan.defaultsFile) layer(await readObjectFile(plan.defaultsFile, 'defaults file'), plan.defaultsFile);
  for (const file of plan.files ?? []) layer(await readObjectFile(file, 'file'), file);

  const envName = plan.env || DEFAULT_ENV;
  const raw = opts.env[envName];
  if (raw !== undefined && raw.trim() !== '') layer(parseEnvJson(envName, raw), `$${envName}`);

  const pairs = opts.kv ?? [];
  if (pairs.length > 0) {
    const prefix = plan.kvPrefix ?? '';
    // Sorted, a parent key holding a JSON object (`db`) lands before its children (`db/port`) refine it.
    for (const { key, value: text } of [...pairs].sort((a, b) =>
      a.key < b.key ? -1 : a.key > b.key ? 1 : 0,
    )) {
      const segments = key.split('/').filter((s) => s !== '');
      if (segments.includes('__proto__')) continue;
      const parsed = kvValue(text);
      if (segments.length === 0 && !isPlainObject(parsed)) continue;
      checkDepth(parsed, `kv ${joinKey(prefix, key)}`);
      value = overlayAt(value, segments, [], parsed, `kv ${joinKey(prefix, key)}`, origins) as JsonObject;
    }
    sources.push(`kv:${prefix}`);
  }

  if (plan.schemaFile) validate(await compileSchema(plan.schemaFile), plan.schemaFile, value, origins);
  return { value, sources };
}

function joinKey(prefix: string, key: string) {
  if (prefix === '' || prefix.endsWith('/') || key.startsWith('/')) return prefix + key;
  return `${prefix}/${key}`;
}

/** KV values are strings; a JSON object or array is taken as structure, anything else is left for the schema. */
function kvValue(text: string): unknown {
  const t = text.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      const v = JSON.parse(t);
      if (typeof v === 'object' && v !== null) return v;
    } catch {
      // Not JSON after all: a string that happens to start with a bracket.
    }
  }
  return text;
}

function parseEnvJson(name: string, raw: string): JsonObject {
  let v: unknown;
  try {
    v = parseJson(raw);
  } catch (err) {
    throw new SettingsError(`$${name} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isPlainObject(v)) throw new SettingsError(`$${name} must hold a JSON object, got ${kindOf(v)}`);
  checkDepth(v, `$${name}`);
  return v;
}

/**
 * Settings are merged, validated and written by walking them; a document nested thousands of levels deep (a
 * generator gone wrong, or a hostile `$CFG`) would overflow the stack there. No real configuration comes near
 * this bound.
 */
export const MAX_SETTINGS_DEPTH = 200;

function checkDepth(root: unknown, where: string): void {
  const stack: Array<{ v: unknown; depth: number }> = [{ v: root, depth: 0 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= MAX_SETTINGS_DEPTH) {
      throw new SettingsError(
        `${where} nests deeper than ${MAX_SETTINGS_DEPTH} levels; flatten it (no configuration needs that many)`,
      );
    }
    for (const child of Object.values(v)) stack.push({ v: child, depth: depth + 1 });
  }
}

function isYaml(path: string) {
  const ext = extname(path).toLowerCase();
  return ext === '.yaml' || ext === '.yml';
}

async function readText(path: string, role: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SettingsError(`settings ${role} not found: ${path}`);
    throw new SettingsError(`cannot read settings ${role} ${path}: ${(err as Error).message}`);
  }
}

function parseText(path: string, role: string, text: string): unknown {
  if (text.trim() === '') return {};
  try {
    if (isYaml(path)) return YAML.parse(text, { prettyErrors: false }) ?? {};
    return parseJson(text);
  } catch (err) {
    const what = isYaml(path) ? 'YAML' : 'JSON';
    const msg = err instanceof JsonSyntaxError ? err.message : (err as Error).message.split('\n')[0];
    throw new SettingsError(`settings ${role} ${path} is not valid ${what}: ${msg}`);
  }
}

async function readObjectFile(path: string, role: string): Promise<JsonObject> {
  const v = parseText(path, role, await readText(path, role));
  if (!isPlainObject(v))
    throw new SettingsError(`settings ${role} ${path} must hold an object, got ${kindOf(v)}`);
  checkDepth(v, `settings ${role} ${path}`);
  return v;
}

function kindOf(v: unknown) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/** One compiled validator per schema file, recompiled only when its text changes (reloads are frequent). */
const compiled = new Map<string, { text: string; validate: ValidateFunction }>();

async function compileSchema(path: string): Promise<ValidateFunction> {
  const text = await readText(path, 'schema');
  const hit = compiled.get(path);
  if (hit && hit.text === text) return hit.validate;
  const schema = parseText(path, 'schema', text);
  if (!isPlainObject(schema) && typeof schema !== 'boolean') {
    throw new SettingsError(`settings schema ${path} must hold an object, got ${kindOf(schema)}`);
  }
  const options = {
    coerceTypes: true,
    useDefaults: true,
    allErrors: true,
    // `data` on each error is what lets a message say `(got "eighty")`.
    verbose: true,
    // Schemas written for other validators carry unknown keywords and formats (ajv-formats is not a
    // dependency): ignore them rather than refuse to start.
    strict: false,
    logger: false,
  } as const;
  const draft = isPlainObject(schema) && typeof schema.$schema === 'string' ? schema.$schema : '';
  const ajv = draft.includes('2020-12')
    ? new (await import('ajv/dist/2020.js')).Ajv2020(options)
    : draft.includes('2019-09')
      ? new (await import('ajv/dist/2019.js')).Ajv2019(options)
      : new (await import('ajv')).Ajv(options);
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema as JsonObject);
  } catch (err) {
    throw new SettingsError(`settings schema ${path} is invalid: ${(err as Error).message}`);
  }
  compiled.set(path, { text, validate });
  return validate;
}

function validate(fn: ValidateFunction, schemaFile: string, value: JsonObject, origins: Origins) {
  // Mutates `value`: coercion ("8080" → 8080) and schema defaults are the point.
  if (fn(value)) return;
  const seen = new Set<string>();
  const issues: SettingsIssue[] = [];
  for (const err of fn.errors ?? []) {
    const issue = describe(err, origins);
    const line = formatIssue(issue);
    if (seen.has(line)) continue;
    seen.add(line);
    issues.push(issue);
  }
  const lines = issues.map(formatIssue);
  const message =
    lines.length === 1
      ? `invalid settings: ${lines[0]}`
      : `invalid settings (${lines.length} errors, schema ${schemaFile}):\n${lines.map((l) => `  ${l}`).join('\n')}`;
  throw new SettingsError(message, issues);
}

function describe(err: ErrorObject, origins: Origins): SettingsIssue {
  const segments = err.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const params = err.params as Record<string, unknown>;
  if (err.keyword === 'required' && typeof params.missingProperty === 'string') {
    // Nobody supplied it, so no source to name.
    return { path: displayPath([...segments, params.missingProperty]), message: 'is required' };
  }
  let message = err.message ?? `fails ${err.keyword}`;
  let data: unknown = err.data;
  if (err.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    segments.push(params.additionalProperty);
    message = 'is not allowed by the schema';
    data = isPlainObject(err.data) ? err.data[params.additionalProperty] : undefined;
  }
  if (err.keyword === 'enum' && Array.isArray(params.allowedValues)) {
    message = `must be one of ${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  const got = describeValue(data, segments[segments.length - 1]);
  return {
    path: displayPath(segments),
    message: got ? `${message} (got ${got})` : message,
    source: originOf(origins, segments),
  };
}

const SECRET = /pass|secret|token|credential|private|api_?key/i;

function describeValue(v: unknown, key: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  // An error message ends up in logs; a password that failed a pattern must not.
  if (key !== undefined && SECRET.test(key) && typeof v === 'string') return 'a redacted string';
  if (isPlainObject(v)) return 'an object';
  if (Array.isArray(v)) return 'an array';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

function displayPath(segments: string[]) {
  let out = 'settings';
  for (const s of segments) out += /^[A-Za-z0-9_$-]+$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`;
  return out;
}
