/**
 * The registry of the `file` backend, for one-machine setups: a folder (`<kv folder>/.services/`, a dot-folder
 * the file KV backend does not list as keys), one sub-folder per service, one JSON document per instance:
 *
 *   <kv folder>/.services/api/api-host-8080.json   {"ID": …, "Name": "api", "Address": …, "Port": 8080, …, "TTL": "10s"}
 *
 * A document is live while its modification time is less than its TTL old. The publisher touches it every
 * TTL/3, so if tend dies the instance expires on its own, like an etcd lease; readers skip expired documents
 * (and a later registration of the same ID replaces them). Writes are atomic (temp file + rename). Watches use
 * fs.watch on the folders plus a timer for the next expiry.
 */
import { type FSWatcher, watch as fsWatch } from 'node:fs';
import { readdir, readFile, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { makeDir, writeFileAtomic } from '../fsx/index.js';
import { type LongTimer, setLongInterval, setLongTimeout } from '../time/index.js';
import {
  catalogOf,
  instanceOf,
  parseGoDuration,
  parseStored,
  type StoredInstance,
  safeId,
  sameList,
  sortInstances,
  storedOf,
} from './record.js';
import { createRefresher } from './retry.js';
import type {
  CatalogService,
  InstanceStatus,
  Publication,
  Registration,
  Registry,
  ServiceInstance,
  Watch,
} from './types.js';

const code = (err: unknown) => (err as NodeJS.ErrnoException)?.code;

interface Live {
  doc: StoredInstance;
  expiresAt: number;
}

/** Registrations are rewritten on every heartbeat: atomic for readers, not worth an fsync. */
const writeAtomic = (file: string, text: string) => writeFileAtomic(file, text, { fsync: false });

export function fileRegistry(dir: string, opts: { debounceMs?: number } = {}): Registry {
  const debounceMs = opts.debounceMs ?? 20;
  const closers = new Set<() => void>();

  const folderOf = (name: string) => join(dir, safeId(name));

  const readFolder = async (folder: string, now: number): Promise<Live[]> => {
    let names: string[];
    try {
      names = await readdir(folder);
    } catch (err) {
      if (code(err) === 'ENOENT' || code(err) === 'ENOTDIR') return [];
      throw err;
    }
    const out: Live[] = [];
    for (const n of names) {
      if (n.startsWith('.') || !n.endsWith('.json')) continue;
      const file = join(folder, n);
      try {
        const [text, st] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
        const doc = parseStored(text);
        if (!doc) continue;
        const ttl = parseGoDuration(doc.TTL) ?? 10_000;
        const expiresAt = st.mtimeMs + ttl;
        if (expiresAt > now) out.push({ doc, expiresAt });
      } catch (err) {
        if (code(err) !== 'ENOENT') throw err;
      }
    }
    return out;
  };

  const liveOf = async (name: string) => readFolder(folderOf(name), Date.now());

  const serviceNames = async (): Promise<string[]> => {
    try {
      return (await readdir(dir, { withFileTypes: true }))
        .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
        .map((e) => e.name);
    } catch (err) {
      if (code(err) === 'ENOENT') return [];
      throw err;
    }
  };

  const allLive = async (): Promise<Live[]> => {
    const now = Date.now();
    return (await Promise.all((await serviceNames()).map((n) => readFolder(join(dir, n), now)))).flat();
  };

  /**
   * Re-reads on any change in `folders()` and at the next expiry; `load` returns the list and the expiry times.
   */
  const follow = <T>(
    folders: () => Promise<string[]>,
    load: () => Promise<{ list: T[]; expiries: number[] }>,
    onChange: (list: T[]) => void,
  ): Watch => {
    let last: T[] | undefined;
    let closed = false;
    let expiryTimer: LongTimer | undefined;
    let debounce: NodeJS.Timeout | undefined;
    const watchers = new Map<string, FSWatcher>();

    /** Watch, then list again: a folder made between a listing and its watcher is caught by the next pass. */
    const syncWatchers = async () => {
      for (let added = true; added && !closed; ) {
        added = false;
        const wanted = new Set(await folders());
        for (const [f, w] of watchers) {
          if (!wanted.has(f)) {
            w.close();
            watchers.delete(f);
          }
        }
        for (const f of wanted) {
          if (watchers.has(f)) continue;
          await makeDir(f);
          if (closed) return;
          const w = fsWatch(f, () => schedule());
          w.on('error', () => {
            // the folder went away: forget the watcher, the next refresh makes it again
            w.close();
            watchers.delete(f);
            schedule();
          });
          watchers.set(f, w);
          added = true;
        }
      }
    };

    const refresher = createRefresher(async () => {
      if (closed) return;
      await syncWatchers();
      const { list, expiries } = await load();
      if (closed) return;
      expiryTimer?.clear();
      const next = Math.min(...expiries);
      if (Number.isFinite(next)) {
        // A TTL of weeks is beyond setTimeout's 24.8 days, where Node fires after 1 ms and the watch would spin
        // re-reading the folder; the long timer waits the whole time.
        expiryTimer = setLongTimeout(() => refresher.kick(), Math.max(0, next - Date.now()) + 5);
      }
      if (sameList(last, list)) return;
      last = list;
      onChange(list);
    });
    const schedule = () => {
      if (closed || debounce) return;
      debounce = setTimeout(() => {
        debounce = undefined;
        refresher.kick();
      }, debounceMs);
    };
    refresher.kick();
    const close = () => {
      if (closed) return;
      closed = true;
      refresher.close();
      expiryTimer?.clear();
      clearTimeout(debounce);
      for (const w of watchers.values()) w.close();
      watchers.clear();
      closers.delete(close);
    };
    closers.add(close);
    return { close };
  };

  const toList = (live: Live[]) => sortInstances(live.map((l) => instanceOf(l.doc)));

  return {
    kind: 'file',
    where: dir,
    async publish(reg: Registration): Promise<Publication> {
      const folder = folderOf(reg.name);
      const file = join(folder, `${safeId(reg.id)}.json`);
      let current = reg;
      let withdrawn = false;
      const write = async () => {
        await makeDir(folder);
        await writeAtomic(file, `${JSON.stringify(storedOf(current), null, 2)}\n`);
      };
      await write();
      const touch = async () => {
        if (withdrawn) return;
        const now = new Date();
        try {
          await utimes(file, now, now);
        } catch (err) {
          // removed behind our back (a cleanup, a wiped folder): write it again
          if (code(err) === 'ENOENT' && !withdrawn) await write();
        }
      };
      const heartbeat = setLongInterval(() => void touch().catch(() => {}), Math.max(100, reg.ttlMs / 3));
      heartbeat.unref();
      // closing the registry (tend going away) stops the heartbeat and leaves the document to expire
      const stopBeating = () => {
        heartbeat.clear();
        closers.delete(stopBeating);
      };
      closers.add(stopBeating);
      return {
        async update(status: InstanceStatus, output?: string) {
          current = { ...current, status, output };
          if (!withdrawn) await write();
        },
        async withdraw() {
          withdrawn = true;
          stopBeating();
          await unlink(file).catch((err) => {
            if (code(err) !== 'ENOENT') throw err;
          });
        },
        onLost() {
          // a file is never taken away by anyone but us
        },
      };
    },
    instances: async (name) => toList(await liveOf(name)),
    watch: (name, onChange) =>
      follow<ServiceInstance>(
        async () => [folderOf(name)],
        async () => {
          const live = await liveOf(name);
          return { list: toList(live), expiries: live.map((l) => l.expiresAt) };
        },
        onChange,
      ),
    catalog: async () => catalogOf(toList(await allLive())),
    watchCatalog: (onChange) =>
      follow<CatalogService>(
        async () => [dir, ...(await serviceNames()).map((n) => join(dir, n))],
        async () => {
          const live = await allLive();
          return { list: catalogOf(toList(live)), expiries: live.map((l) => l.expiresAt) };
        },
        onChange,
      ),
    async close() {
      for (const c of [...closers]) c();
    },
  };
}
