/**
 * The one environment of a service's children. The service itself, its exec readiness and health probes, its
 * template checks and on_change commands, its finish hook: all get the same variables, built here, in this
 * order (a later layer wins):
 *
 *   1. tend's own environment (the process env tend was started with)
 *   1b. with `user:`, that user's HOME, USER and LOGNAME (as login and su would set them), so that a service
 *       run as `app` does not write its dot-files into root's home; the manifest's `env` may still set them
 *   2. the manifest's `env` for the service
 *   3. `env_from` (variables rendered from the KV store), as last set for the service
 *   4. tend's own variables: TEND_APP, TEND_SERVICE, TEND_DATA_DIR, TEND_SETTINGS_FILE (when settings are
 *      written), TEND_INSTANCE (the marker that finds a service's escaped daemons)
 *
 * Each caller adds only its own extras on top (TEND_CHECK_FILE, TEND_EXIT_CODE, TEND_EVENT_KIND, …).
 * App-level children (lifecycle stages, notify scripts) get `appEnv`: layers 1 and 4 without the service.
 * docs/reference/environment.md is the table users read; keep it in step.
 */

export interface AppEnvSource {
  /** tend's own environment */
  base: NodeJS.ProcessEnv;
  /** the app's name (TEND_APP) */
  app: string;
  /** the app's data folder (TEND_DATA_DIR) */
  dataDir: string;
  /** the settings file services read (TEND_SETTINGS_FILE), when tend writes one */
  settingsFile?: string;
}

export interface ServiceEnvSource {
  name: string;
  /** the manifest's `env` of the service */
  env: Record<string, string>;
  /** the resolved `user:` of the service */
  runAs?: { name: string; home: string };
}

export interface ServiceEnvLayers {
  /** `env_from` variables as last rendered */
  envFrom?: Record<string, string>;
  /** tend's own per-service variables no manifest value may override (TEND_INSTANCE) */
  tend?: Record<string, string>;
}

/** The variables of tend that every child of the app gets, service or not. */
export function tendVars(src: AppEnvSource): Record<string, string> {
  const vars: Record<string, string> = { TEND_APP: src.app, TEND_DATA_DIR: src.dataDir };
  if (src.settingsFile) vars.TEND_SETTINGS_FILE = src.settingsFile;
  return vars;
}

/** The environment of an app-level child (a lifecycle stage, a notify script): no service's variables. */
export function appEnv(src: AppEnvSource): Record<string, string> {
  const env = definedOnly(src.base);
  // A tend started by tend (a test, a nested supervisor) must not pass its parent's service name down.
  delete env.TEND_SERVICE;
  return { ...env, ...tendVars(src) };
}

/** The environment of every child of one service (see the module comment for the layers). */
export function serviceEnv(
  src: AppEnvSource,
  service: ServiceEnvSource,
  layers: ServiceEnvLayers = {},
): Record<string, string> {
  const user = service.runAs
    ? { HOME: service.runAs.home, USER: service.runAs.name, LOGNAME: service.runAs.name }
    : undefined;
  return {
    ...definedOnly(src.base),
    ...user,
    ...service.env,
    ...layers.envFrom,
    ...tendVars(src),
    ...layers.tend,
    TEND_SERVICE: service.name,
  };
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
