/**
 * The render loop's one watch on the KV store and the snapshot it keeps current. The watch covers exactly what
 * the loop asks for (what the units read last, plus the settings and env_from prefixes); a read of new keys
 * grows it first and waits until the watch is in place ("watch, `synced()`, read": no gap), so a change that
 * lands while the read is under way is not lost.
 */
import type { KvBackend, KvChange, Watcher, WatchSpec } from '../kv/index.js';
import type { TemplateSource } from '../template/index.js';
import { createSnapshot, type Snapshot } from './snapshot.js';

export interface KvWatch {
  snapshot: Snapshot;
  /** watches exactly `need`, and forgets from the snapshot what it no longer covers */
  narrow(need: WatchSpec): void;
  close(): Promise<void>;
}

export interface KvWatchOptions {
  /** `file` reads relative paths from here */
  baseDir: string;
  services?: Pick<TemplateSource, 'service' | 'services' | 'catalog'>;
  /** after the snapshot took the changes in */
  onChanges(changes: KvChange[]): void;
}

export const union = (...specs: WatchSpec[]): WatchSpec => ({
  keys: [...new Set(specs.flatMap((s) => s.keys))].sort(),
  prefixes: [...new Set(specs.flatMap((s) => s.prefixes))].sort(),
});

export function createKvWatch(kv: KvBackend, opts: KvWatchOptions): KvWatch {
  let closed = false;
  let watcher: Watcher | undefined;
  let watched: WatchSpec = { keys: [], prefixes: [] };

  const set = (spec: WatchSpec) => {
    if (closed) return;
    if (JSON.stringify(spec) === JSON.stringify(watched)) return;
    watched = spec;
    if (!watcher) {
      if (spec.keys.length === 0 && spec.prefixes.length === 0) return;
      watcher = kv.watch(spec, (changes) => {
        if (closed) return;
        snapshot.apply(changes);
        opts.onChanges(changes);
      });
    } else watcher.update(spec);
  };

  const snapshot = createSnapshot(kv, {
    baseDir: opts.baseDir,
    services: opts.services,
    // Grows the watch only: a read under way elsewhere must not lose its key from the watch meanwhile.
    async beforeRead(spec) {
      set(union(watched, spec));
      await watcher?.synced();
    },
  });

  return {
    snapshot,
    narrow(need) {
      snapshot.retain(need);
      set(need);
    },
    async close() {
      closed = true;
      await watcher?.close();
    },
  };
}
