/**
 * Reads what the variable exports hold, once: the effective settings (with the KV overlay under
 * `settings.kv_prefix`) and the env_from keys, from the KV store a `tend up` would use.
 */
import { effectiveSettings } from '../lifecycle/index.js';
import type { Plan } from '../manifest/types.js';
import { envFromPairs, envPrefix } from '../render/index.js';
import { withTimeout } from '../time/index.js';
import { ExportError, type ExportInput, type SettingsMode } from './vars.js';

/** The little of a KV store this needs; src/kv's KvBackend fits. */
export interface KvReader {
  readonly url: string;
  list(prefix: string): Promise<Array<{ key: string; value: string }>>;
}

export interface CollectOptions {
  env: NodeJS.ProcessEnv;
  /** undefined: no KV store (--no-kv): settings without overlay, no env_from variables */
  kv?: KvReader;
  /** one service: its `env` and env_from; else the env_from of every enabled service */
  service?: string;
  mode: SettingsMode;
  /** per request to the store */
  timeoutMs?: number;
}

export async function collectExport(plan: Plan, opts: CollectOptions): Promise<ExportInput> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const list = async (prefix: string) => {
    const kv = opts.kv!;
    try {
      return await withTimeout(kv.list(prefix), timeoutMs);
    } catch (err) {
      throw new ExportError(
        `cannot read ${prefix || 'the keys'} from the KV store ${kv.url}: ${(err as Error).message}; ` +
          'start it, point --kv at the right one, or pass --no-kv to export without it',
      );
    }
  };

  const services =
    opts.service === undefined ? plan.order.map((n) => plan.services[n]) : [plan.services[opts.service]];
  if (services.some((s) => s === undefined))
    throw new ExportError(`no service ${opts.service} in ${plan.file}`);

  const prefix = plan.settings.kvPrefix;
  let overlay: Array<{ key: string; value: string }> | undefined;
  if (opts.mode !== 'none' && prefix !== undefined && opts.kv) {
    overlay = (await list(prefix)).map((p) => ({ key: p.key.slice(prefix.length), value: p.value }));
  }
  const settings = opts.mode === 'none' ? {} : (await effectiveSettings(plan, opts.env, overlay)).value;

  const envFrom: ExportInput['envFrom'] = [];
  if (opts.kv) {
    for (const sp of services) {
      if (sp.envFrom.length === 0) continue;
      const prefixes = sp.envFrom.map(envPrefix);
      const pairs = [];
      for (const p of prefixes) pairs.push({ prefix: p, pairs: await list(p) });
      envFrom.push({ service: sp.name, vars: envFromPairs(pairs) });
    }
  }

  const one = opts.service === undefined ? undefined : services[0];
  return {
    settings,
    settingsVar: plan.settings.env || 'CFG',
    mode: opts.mode,
    serviceEnv: one ? { service: one.name, env: one.env } : undefined,
    envFrom,
  };
}
