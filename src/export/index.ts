/**
 * `tend export`: deployment files from one manifest, so that the same config feeds systemd, docker compose
 * and Kubernetes (seed 003).
 *
 * - systemdUnit(plan, opts)                 a Type=notify unit that runs `tend up` (see systemd.ts)
 * - systemdSocketUnit(plan)                 the .socket unit holding the services' `listen:` sockets
 * - collectExport(plan, opts)               settings (+ KV overlay) and env_from variables, read once
 * - exportVariables(input)                  the variables in order, settings as JSON and/or flattened
 * - formatDotenv / formatEnvFile / formatConfigMap   the three variable files, quoted for their readers
 */
export { type CollectOptions, collectExport, type KvReader } from './collect.js';
export {
  type ConfigMapOptions,
  dotenvValue,
  envFileValue,
  formatConfigMap,
  formatDotenv,
  formatEnvFile,
  type Header,
  yamlQuoted,
} from './formats.js';
export {
  startBudgetMs,
  stopBudgetMs,
  systemdSocketUnit,
  systemdUnit,
  timeSpan,
  type UnitOptions,
} from './systemd.js';
export {
  ExportError,
  type ExportInput,
  type ExportVar,
  exportVariables,
  FLAT_PREFIX,
  flattenSettings,
  portableName,
  SETTINGS_MODES,
  type SettingsMode,
} from './vars.js';
