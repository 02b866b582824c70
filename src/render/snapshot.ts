/**
 * What templates read, held locally: the keys and prefixes fetched from the KV store, kept current by the watch.
 * The template engine is synchronous and reads a snapshot; whatever the snapshot does not hold yet is reported
 * as missing, fetched here, and the template rendered again (consul-template's multi-pass model).
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { KvBackend, KvChange, WatchSpec } from '../kv/index.js';
import type { TemplateSource } from '../template/index.js';

/** What a render lacked that the store can answer (services, catalogs and files are not in the store). */
export interface Wanted {
  keys: string[];
  prefixes: string[];
}

export interface Snapshot {
  /** a synchronous view for one render: `env` is the environment `env` and `.Env` read */
  source(env: Record<string, string | undefined>): TemplateSource;
  /** the entries of a render's `missing` list that the snapshot does not hold yet */
  unknown(missing: string[]): Wanted;
  /** reads `want` from the store into the snapshot; throws a KvError when the store does not answer */
  fetch(want: Wanted): Promise<void>;
  /** applies a watch's changes to what the snapshot holds */
  apply(changes: KvChange[]): void;
  /** every pair under `prefix` the snapshot holds (undefined: not fetched) */
  pairs(prefix: string): Array<{ key: string; value: string }> | undefined;
  /** forgets what no longer matters and returns what is held, for the watch */
  retain(spec: WatchSpec): WatchSpec;
  held(): WatchSpec;
}

export interface SnapshotOptions {
  /** `file` reads relative paths from here */
  baseDir: string;
  /**
   * Called before reading new keys or prefixes, with everything that should be watched from now on; resolves
   * once the watch has a baseline for them ("watch, await synced(), then read" leaves no gap).
   */
  beforeRead?: (spec: WatchSpec) => Promise<void>;
  /** services for `service`/`services` (discovery); default: unknown, so they are reported missing */
  services?: Pick<TemplateSource, 'service' | 'services'>;
}

export function createSnapshot(kv: KvBackend, opts: SnapshotOptions): Snapshot {
  /** key → value, null = known absent */
  const keys = new Map<string, string | null>();
  /** prefix → every key under it */
  const prefixes = new Map<string, Map<string, string>>();
  /** fetches under way, marked stale when a change touches them before they land */
  const inflight = new Set<{ want: Wanted; stale: boolean }>();

  const coveringPrefix = (key: string): Map<string, string> | undefined => {
    for (const [p, m] of prefixes) if (key.startsWith(p)) return m;
    return undefined;
  };

  const lookupKey = (key: string): string | null | undefined => {
    if (keys.has(key)) return keys.get(key);
    const m = coveringPrefix(key);
    if (m) return m.get(key) ?? null;
    return undefined;
  };

  const listPrefix = (prefix: string): Array<{ key: string; value: string }> | undefined => {
    let m = prefixes.get(prefix);
    if (!m) {
      // a wider prefix already fetched answers a narrower one
      for (const [p, pm] of prefixes) {
        if (prefix.startsWith(p)) {
          m = pm;
          break;
        }
      }
    }
    if (!m) return undefined;
    return [...m]
      .filter(([k]) => k.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, value]) => ({ key, value }));
  };

  const held = (): WatchSpec => ({ keys: [...keys.keys()].sort(), prefixes: [...prefixes.keys()].sort() });

  return {
    source(env) {
      return {
        key: (path) => lookupKey(path),
        list: (prefix) => listPrefix(prefix),
        services: (dc, o) => opts.services?.services(dc, o),
        service: (name, o) => opts.services?.service(name, o),
        file(path) {
          try {
            return readFileSync(isAbsolute(path) ? path : resolve(opts.baseDir, path), 'utf8');
          } catch {
            return null;
          }
        },
        env: (name) => (Object.hasOwn(env, name) ? env[name] : undefined),
      };
    },

    unknown(missing) {
      const want: Wanted = { keys: [], prefixes: [] };
      for (const m of missing) {
        const i = m.indexOf(':');
        const kind = m.slice(0, i);
        const name = m.slice(i + 1);
        if (kind === 'key' && lookupKey(name) === undefined) want.keys.push(name);
        else if (kind === 'prefix' && listPrefix(name) === undefined) want.prefixes.push(name);
      }
      return want;
    },

    async fetch(want) {
      if (want.keys.length === 0 && want.prefixes.length === 0) return;
      const h = held();
      await opts.beforeRead?.({
        keys: [...new Set([...h.keys, ...want.keys])],
        prefixes: [...new Set([...h.prefixes, ...want.prefixes])],
      });
      const mark = { want, stale: false };
      inflight.add(mark);
      try {
        const [values, lists] = await Promise.all([
          Promise.all(want.keys.map((k) => kv.get(k))),
          Promise.all(want.prefixes.map((p) => kv.list(p))),
        ]);
        // A change that arrived meanwhile is newer than what the read returned: keep it, read again later.
        if (mark.stale) return;
        want.keys.forEach((k, i) => {
          keys.set(k, values[i] ?? null);
        });
        want.prefixes.forEach((p, i) => {
          prefixes.set(p, new Map(lists[i].map((pair) => [pair.key, pair.value])));
        });
      } finally {
        inflight.delete(mark);
      }
    },

    apply(changes) {
      for (const c of changes) {
        if (keys.has(c.key)) keys.set(c.key, c.value ?? null);
        for (const [p, m] of prefixes) {
          if (!c.key.startsWith(p)) continue;
          if (c.value === undefined) m.delete(c.key);
          else m.set(c.key, c.value);
        }
        for (const f of inflight) {
          if (f.want.keys.includes(c.key) || f.want.prefixes.some((p) => c.key.startsWith(p))) f.stale = true;
        }
      }
    },

    pairs: (prefix) => listPrefix(prefix),

    retain(spec) {
      const k = new Set(spec.keys);
      const p = new Set(spec.prefixes);
      for (const key of [...keys.keys()]) if (!k.has(key)) keys.delete(key);
      for (const prefix of [...prefixes.keys()]) if (!p.has(prefix)) prefixes.delete(prefix);
      return held();
    },

    held,
  };
}

/** Every key the store could have changed that a spec covers. */
export function specCovers(spec: WatchSpec, key: string): boolean {
  return spec.keys.includes(key) || spec.prefixes.some((p) => key.startsWith(p));
}
