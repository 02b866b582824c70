/**
 * The app's settings (whaleware's CFG) as tend up holds them: loaded once at start, written for services as
 * `<state_dir>/settings.json` (TEND_SETTINGS_FILE), re-computed when the KV overlay changes.
 */
import type { Bus } from '../events/index.js';
import type { Plan } from '../manifest/types.js';
import { type LoadedSettings, loadSettings, SettingsError, writeSettingsFile } from '../settings/index.js';

export type KvPairs = Array<{ key: string; value: string }>;

/**
 * The settings a running tend would have, computed offline (`tend cfg get` with no tend running):
 * defaults ← files ← `$CFG` ← the KV pairs under `kv_prefix`, if given. Throws SettingsError.
 */
export function effectiveSettings(plan: Plan, env: NodeJS.ProcessEnv, kv?: KvPairs): Promise<LoadedSettings> {
  return loadSettings(plan.settings, { env, kv });
}

export interface SettingsState {
  value(): Record<string, unknown>;
  sources(): string[];
  /** absolute path of the JSON file services read; undefined for `tend run` (no manifest, no settings) */
  readonly file?: string;
  /**
   * Re-computes with a new KV overlay (the KV module calls this when keys under `kv_prefix` change) and
   * rewrites the file. Resolves true when the value changed. A SettingsError leaves the last good value.
   */
  update(kv: KvPairs): Promise<boolean>;
}

/** Loads and writes the settings, or throws SettingsError: tend up must refuse to start then. */
export async function prepareSettings(plan: Plan, env: NodeJS.ProcessEnv, bus?: Bus): Promise<SettingsState> {
  if (plan.file === undefined) {
    return { value: () => ({}), sources: () => [], update: async () => false };
  }
  let loaded = await effectiveSettings(plan, env);
  let file: string;
  try {
    file = await writeSettingsFile(plan.stateDir, loaded.value);
  } catch (err) {
    throw new SettingsError(
      `cannot write the settings file in ${plan.stateDir}: ${(err as Error).message}; make state_dir writable`,
    );
  }
  return {
    value: () => loaded.value,
    sources: () => loaded.sources,
    file,
    async update(kv) {
      const next = await effectiveSettings(plan, env, kv);
      const changed = JSON.stringify(next.value) !== JSON.stringify(loaded.value);
      loaded = next;
      if (!changed) return false;
      await writeSettingsFile(plan.stateDir, next.value);
      bus?.publish({ kind: 'config', action: 'settings', reason: `from ${next.sources.join(' ← ')}` });
      return true;
    },
  };
}
