/**
 * The application's own JSON config (whaleware's CFG), for `tend cfg get`, `.Settings` in templates and
 * services' TEND_SETTINGS_FILE.
 *
 * Layers, later wins: inline `defaults` ← `defaultsFile` ← each of `files` ← `$CFG` (or `settings.env`) ←
 * KV pairs under `kv_prefix`. Objects merge key by key; arrays, scalars and null replace. Files are JSON, or
 * YAML when named `.yaml`/`.yml`; an empty file counts as `{}`; a listed file that is missing is an error.
 * An empty `$CFG` is ignored. A KV key `db/port` sets `db.port` (numeric segments index existing arrays);
 * a KV value that parses as a JSON object or array is used as such, any other value stays a string for the
 * schema to coerce.
 *
 * With a schema (JSON or YAML; draft-07 by default, 2019-09 / 2020-12 by `$schema`): ajv with coerceTypes,
 * useDefaults and allErrors. Unknown keywords and `format`s are ignored (no ajv-formats). Every failing
 * value is listed as `settings.db.port: must be integer (got "eighty") — from $CFG`; values under keys that
 * look secret (password, token, …) are never echoed.
 */
export { SettingsError, type SettingsIssue } from './errors.js';
export { type LoadedSettings, type LoadSettingsOptions, loadSettings } from './load.js';
export { getPath } from './path.js';
export { writeSettingsFile } from './write.js';
