/**
 * Which variables an export holds, and their names. Pure: settings and KV pairs in, an ordered list out.
 *
 * Settings become variables two ways (`--settings`, default both):
 * - json: one variable named like `settings.env` (default CFG) holding the whole settings as JSON, whaleware's
 *   own way. It round-trips exactly, and tend started with it reads it back as its `$CFG` layer.
 * - flat: one variable per leaf, `SETTINGS_` + the path with each segment sanitised like env_from names
 *   ([A-Za-z0-9_], upper-cased) and joined by `_`: `db.port` → SETTINGS_DB_PORT, `hosts[1]` →
 *   SETTINGS_HOSTS_1. Scalars as text (null as ''), empty objects and arrays as `{}` / `[]`. Two paths that
 *   sanitise to one name are an error rather than a silent loss.
 * Then, with `--service S`, that service's `env` map, then its env_from variables; without, the env_from
 * variables of every enabled service. A later variable wins over an earlier one of the same name, as in the
 * running service's environment.
 */
import { envName } from '../render/index.js';

export type SettingsMode = 'both' | 'json' | 'flat' | 'none';
export const SETTINGS_MODES: SettingsMode[] = ['both', 'json', 'flat', 'none'];
export const FLAT_PREFIX = 'SETTINGS_';

export interface ExportVar {
  name: string;
  value: string;
  /** where it comes from, for the comments of the output and for error messages */
  from: string;
}

export class ExportError extends Error {}

/** One variable per leaf of the settings; throws ExportError when two paths map to one name. */
export function flattenSettings(settings: unknown, prefix = FLAT_PREFIX): ExportVar[] {
  const out: ExportVar[] = [];
  const byName = new Map<string, string>();
  const visit = (value: unknown, segments: string[]) => {
    const path = segments.length === 0 ? '(root)' : segments.join('.');
    const isArray = Array.isArray(value);
    const isObject = value !== null && typeof value === 'object' && !isArray;
    const entries: Array<[string, unknown]> = isArray
      ? (value as unknown[]).map((v, i) => [String(i), v])
      : isObject
        ? Object.entries(value as Record<string, unknown>)
        : [];
    if ((isArray || isObject) && (entries.length > 0 || segments.length === 0)) {
      for (const [k, v] of entries) visit(v, [...segments, k]);
      return;
    }
    const name = prefix + segments.map((s) => envName(s)).join('_');
    const seen = byName.get(name);
    if (seen !== undefined) {
      throw new ExportError(
        `settings ${seen} and ${path} both become ${name}; rename one of them, or export with --settings json`,
      );
    }
    byName.set(name, path);
    out.push({ name, value: scalarText(value), from: `settings ${path}` });
  };
  visit(settings, []);
  return out;
}

function scalarText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export interface ExportInput {
  settings: Record<string, unknown>;
  /** name of the JSON variable (the manifest's `settings.env`) */
  settingsVar: string;
  mode: SettingsMode;
  flatPrefix?: string;
  /** `env` of the one service exported, if any */
  serviceEnv?: { service: string; env: Record<string, string> };
  /** env_from variables per service, in start order */
  envFrom: Array<{ service: string; vars: Record<string, string> }>;
}

/**
 * The variables in output order, each name once (the later one wins; its position is the first one's).
 * `warnings` names env_from variables that two services set to different values.
 */
export function exportVariables(input: ExportInput): { vars: ExportVar[]; warnings: string[] } {
  const list: ExportVar[] = [];
  if (input.mode === 'json' || input.mode === 'both') {
    list.push({ name: input.settingsVar, value: JSON.stringify(input.settings), from: 'settings (JSON)' });
  }
  if (input.mode === 'flat' || input.mode === 'both')
    list.push(...flattenSettings(input.settings, input.flatPrefix));
  if (input.serviceEnv) {
    const { service, env } = input.serviceEnv;
    for (const name of Object.keys(env).sort()) list.push({ name, value: env[name], from: `${service} env` });
  }
  const warnings: string[] = [];
  const fromEnvFrom = new Map<string, { service: string; value: string }>();
  for (const { service, vars } of input.envFrom) {
    for (const name of Object.keys(vars).sort()) {
      const earlier = fromEnvFrom.get(name);
      if (earlier && earlier.value !== vars[name]) {
        warnings.push(
          `${name} differs between the env_from of ${earlier.service} and of ${service}; ${service}'s is exported (use --service to export one service)`,
        );
      }
      fromEnvFrom.set(name, { service, value: vars[name] });
      list.push({ name, value: vars[name], from: `${service} env_from` });
    }
  }
  const merged = new Map<string, ExportVar>();
  for (const v of list) merged.set(v.name, v);
  // Order of first appearance, so settings stay together at the top whatever overrides them.
  const order = [...new Set(list.map((v) => v.name))];
  return { vars: order.map((n) => merged.get(n)!), warnings };
}

/** What a shell, systemd and Kubernetes' envFrom all accept as a variable name. */
export function portableName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}
