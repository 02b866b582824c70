/**
 * The embedded `file` backend: a folder in which each file is a key, or one YAML/JSON file flattened with `/`.
 *
 * Folder mode: the key is the file's path relative to the folder, with `/`; the value is the file's content,
 * byte for byte (a trailing newline is part of the value). Dotfiles and dot-folders (which also skips the `..data`
 * indirection of Kubernetes ConfigMap volumes while following its symlinks), `*~`, `*.swp`/`.swo`/`.swx` and
 * `#autosave#` files are not keys. A missing folder is an empty store.
 *
 * Watching uses fs.watch on every folder (never the recursive flag, whose Linux support differs across Node
 * versions), debounced; each batch comes from re-reading the store and diffing it with the previous snapshot,
 * so it names exactly the keys that changed, whatever the editor did (rename-into-place, truncate, temp files).
 *
 * Leases are emulated in memory: revoke() deletes the keys put under the lease, and so does close(), since no
 * server will ever expire them once this process is gone.
 */
import { randomBytes } from 'node:crypto';
import { type FSWatcher, watch as fsWatch } from 'node:fs';
import { readdir, readFile, rmdir, stat, unlink, utimes } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { makeDir, writeFileAtomic } from '../fsx/index.js';
import { sleep } from '../time/index.js';
import {
  compareKeys,
  createStatusTracker,
  createSyncGate,
  deliver,
  diffMaps,
  errorMessage,
  KvError,
  normalizeSpec,
  specCovers,
} from './common.js';
import {
  deleteFlatKeys,
  type FlatDoc,
  FlatDocError,
  flattenDoc,
  parseFlatDoc,
  serializeFlatDoc,
  setFlatKey,
} from './flatten.js';
import type {
  FileKvConfig,
  KvBackend,
  KvChange,
  KvPair,
  KvTiming,
  Lease,
  Watcher,
  WatchSpec,
} from './types.js';

export function isIgnoredName(name: string): boolean {
  return (
    name.startsWith('.') ||
    name.endsWith('~') ||
    /\.sw[opx]$/.test(name) ||
    (name.startsWith('#') && name.endsWith('#'))
  );
}

interface Snapshot {
  data: Map<string, string>;
  /** folders to watch so that any change of the store raises an event */
  dirs: string[];
}

interface Store {
  read(): Promise<Snapshot>;
  get(key: string): Promise<string | undefined>;
  list(prefix: string): Promise<Map<string, string>>;
  put(key: string, value: string): Promise<void>;
  delete(key: string, prefix: boolean): Promise<void>;
  /** folder stores: the key's file, for touch/modifiedAt (undefined for a name that cannot be a key) */
  fileOf?(key: string): string | undefined;
  /** whether an fs event (in a folder being watched) can concern the store */
  relevant(dir: string, filename: string | null): boolean;
  /** where to listen while the store cannot be read, to notice when it is fixed */
  fallbackDirs(): Promise<string[]>;
}

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException)?.code;
}

/**
 * Rewrites the store in place for its readers: the one atomic writer, keeping the file's mode and owner (tend as
 * root editing a user's store must not take it over, nor widen or narrow who may read it). No fsync: a put is
 * as durable as the editors that also write this file.
 */
async function atomicWrite(file: string, content: string): Promise<void> {
  let keep: { mode: number; uid: number; gid: number } | undefined;
  try {
    const st = await stat(file);
    keep = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  } catch {
    // new file: default mode, tend's owner
  }
  await writeFileAtomic(file, content, { ...keep, fsync: false });
}

/** The nearest folder that exists, so that the creation of a missing store is noticed. */
async function existingAncestor(path: string): Promise<string> {
  let dir = path;
  for (;;) {
    try {
      if ((await stat(dir)).isDirectory()) return dir;
    } catch {
      // keep climbing
    }
    const parent = dirname(dir);
    if (parent === dir) return dir;
    dir = parent;
  }
}

function createDirStore(root: string, url: string): Store {
  const keyToPath = (key: string, forWrite: boolean): string | undefined => {
    const segments = key.split('/');
    const ok = key !== '' && segments.every((s) => s !== '' && s !== '..' && !isIgnoredName(s));
    if (!ok) {
      if (forWrite) {
        throw new KvError(
          url,
          'invalid',
          `"${key}" cannot be a key of a folder store (empty, dot or temp-file segment)`,
        );
      }
      return undefined;
    }
    return join(root, ...segments);
  };

  const walk = async (dir: string, keyPrefix: string, out: Map<string, string>, dirs: string[]) => {
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch (err) {
      if (code(err) === 'ENOENT' || code(err) === 'ENOTDIR') return;
      throw err;
    }
    dirs.push(dir);
    for (const name of entries.sort(compareKeys)) {
      if (isIgnoredName(name)) continue;
      const full = join(dir, name);
      const key = keyPrefix === '' ? name : `${keyPrefix}/${name}`;
      try {
        const st = await stat(full);
        if (st.isDirectory()) await walk(full, key, out, dirs);
        else if (st.isFile()) out.set(key, await readFile(full, 'utf8'));
      } catch (err) {
        // gone between readdir and read, or a dangling symlink: not a key
        if (code(err) !== 'ENOENT' && code(err) !== 'ENOTDIR') throw err;
      }
    }
  };

  return {
    fileOf: (key) => keyToPath(key, false),
    async read() {
      const data = new Map<string, string>();
      const dirs: string[] = [];
      await walk(root, '', data, dirs);
      if (dirs.length === 0) dirs.push(await existingAncestor(root));
      return { data, dirs };
    },
    async get(key) {
      const file = keyToPath(key, false);
      if (file === undefined) return undefined;
      try {
        return await readFile(file, 'utf8');
      } catch (err) {
        if (['ENOENT', 'ENOTDIR', 'EISDIR'].includes(code(err) ?? '')) return undefined;
        throw err;
      }
    },
    async list(prefix) {
      const slash = prefix.lastIndexOf('/');
      const dirKey = slash < 0 ? '' : prefix.slice(0, slash);
      const start = dirKey === '' ? root : keyToPath(dirKey, false);
      const data = new Map<string, string>();
      if (start === undefined) return data;
      await walk(start, dirKey, data, []);
      for (const key of data.keys()) if (!key.startsWith(prefix)) data.delete(key);
      return data;
    },
    async put(key, value) {
      const file = keyToPath(key, true) as string;
      await makeDir(dirname(file));
      await atomicWrite(file, value);
    },
    async delete(key, prefix) {
      const keys = prefix ? [...(await this.list(key)).keys()] : [key];
      const parents = new Set<string>();
      for (const k of keys) {
        const file = keyToPath(k, false);
        if (file === undefined) continue;
        try {
          await unlink(file);
          parents.add(dirname(file));
        } catch (err) {
          if (!['ENOENT', 'ENOTDIR', 'EISDIR'].includes(code(err) ?? '')) throw err;
        }
      }
      // folders emptied by a delete would otherwise linger as clutter; the store's root stays
      const deepestFirst = [...parents].sort((a, b) => b.length - a.length);
      for (let dir of deepestFirst) {
        while (dir.startsWith(root + sep) && dir !== root) {
          try {
            await rmdir(dir);
          } catch {
            break;
          }
          dir = dirname(dir);
        }
      }
    },
    relevant: () => true,
    fallbackDirs: async () => [await existingAncestor(root)],
  };
}

/** How long an empty document file is given to fill before it counts as empty (a truncate-then-write save). */
const EMPTY_SETTLE_MS = 150;

function createDocStore(file: string, format: 'yaml' | 'json', url: string): Store {
  const load = async (): Promise<FlatDoc> => {
    let text = '';
    try {
      text = await readFile(file, 'utf8');
      if (text === '') {
        // A save that truncates and then writes (`>`, many editors' "write in place") shows an empty file for
        // a moment; taken at its word, every key would be deleted and every template waiting. An empty file
        // that stays empty is an empty store.
        await sleep(EMPTY_SETTLE_MS);
        text = await readFile(file, 'utf8');
      }
    } catch (err) {
      if (code(err) !== 'ENOENT') throw err;
    }
    return parseFlatDoc(text, format, file);
  };
  const readData = async () => flattenDoc(await load(), file);
  const edit = async (change: (doc: FlatDoc) => void) => {
    const doc = await load();
    try {
      change(doc);
    } catch (err) {
      if (err instanceof FlatDocError) throw new KvError(url, 'conflict', err.message);
      throw err;
    }
    await makeDir(dirname(file));
    await atomicWrite(file, serializeFlatDoc(doc));
  };
  const name = basename(file);
  return {
    async read() {
      const data = await readData();
      return { data, dirs: [await existingAncestor(dirname(file))] };
    },
    async get(key) {
      return (await readData()).get(key);
    },
    async list(prefix) {
      const data = await readData();
      for (const key of data.keys()) if (!key.startsWith(prefix)) data.delete(key);
      return data;
    },
    async put(key, value) {
      if (key === '' || key.split('/').includes('')) {
        throw new KvError(url, 'invalid', `"${key}" cannot be a key of a flattened file (empty segment)`);
      }
      await edit((doc) => setFlatKey(doc, key, value));
    },
    async delete(key, prefix) {
      const data = await readData();
      const keys = prefix ? [...data.keys()].filter((k) => k.startsWith(key)) : data.has(key) ? [key] : [];
      if (keys.length > 0) await edit((doc) => deleteFlatKeys(doc, keys));
    },
    relevant: (dir, filename) => dir !== dirname(file) || filename === null || filename === name,
    fallbackDirs: async () => [await existingAncestor(dirname(file))],
  };
}

interface Subscriber {
  spec: WatchSpec;
  onChange: (changes: KvChange[]) => void;
}

interface LeaseState {
  keys: Set<string>;
  revoked: boolean;
}

export function createFileBackend(
  config: FileKvConfig,
  opts: { baseDir: string; timing: KvTiming },
): KvBackend {
  const url = config.url;
  const path = resolve(opts.baseDir, config.path);
  const store =
    config.format === 'dir' ? createDirStore(path, url) : createDocStore(path, config.format, url);
  const status = createStatusTracker(true);
  const { timing } = opts;
  const subscribers = new Set<Subscriber>();
  const leases = new Map<Lease, LeaseState>();
  const gate = createSyncGate();
  let snapshot: Map<string, string> | undefined;
  let fsWatchers = new Map<string, FSWatcher>();
  let debounce: NodeJS.Timeout | undefined;
  let firstEventAt = 0;
  let scanning: Promise<void> | undefined;
  let rescanRequested = false;
  let closed = false;
  let writes: Promise<unknown> = Promise.resolve();

  const fail = (err: unknown, what: string): KvError => {
    if (err instanceof KvError) return err;
    if (err instanceof FlatDocError) return new KvError(url, 'invalid', err.message, { cause: err });
    const c = code(err) ?? '';
    // a key that collides with a folder (or a file where a folder is needed) is the caller's problem
    const kind = ['EACCES', 'EPERM'].includes(c)
      ? 'denied'
      : ['EISDIR', 'ENOTDIR', 'EEXIST', 'ENOTEMPTY'].includes(c)
        ? 'conflict'
        : 'failed';
    return new KvError(url, kind, `${what}: ${errorMessage(err)}`, { cause: err });
  };

  const guard = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    if (closed) throw new KvError(url, 'closed', `${what}: the backend is closed`);
    try {
      const result = await fn();
      status.set(true);
      return result;
    } catch (err) {
      const e = fail(err, what);
      if (e.code === 'failed' || e.code === 'denied' || err instanceof FlatDocError)
        status.set(false, e.message);
      throw e;
    }
  };

  const serialized = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = writes.then(fn, fn);
    writes = run.catch(() => {});
    return run;
  };

  const onFsEvent = (dir: string, filename: string | Buffer | null) => {
    if (closed || subscribers.size === 0) return;
    if (!store.relevant(dir, filename === null ? null : String(filename))) return;
    const now = Date.now();
    if (debounce === undefined) firstEventAt = now;
    clearTimeout(debounce);
    // a steady stream of events (a log file in the folder) must not postpone the re-read forever
    const wait = Math.max(0, Math.min(timing.debounceMs, firstEventAt + timing.debounceMs * 10 - now));
    debounce = setTimeout(() => {
      debounce = undefined;
      requestScan();
    }, wait);
  };

  const syncFsWatchers = (dirs: string[], prune: boolean): boolean => {
    const wanted = new Set(dirs);
    let added = false;
    for (const [dir, w] of fsWatchers) {
      if (prune && !wanted.has(dir)) {
        w.close();
        fsWatchers.delete(dir);
      }
    }
    for (const dir of wanted) {
      if (fsWatchers.has(dir)) continue;
      try {
        const w = fsWatch(dir, { persistent: true }, (_event, filename) => onFsEvent(dir, filename));
        w.on('error', () => {
          // the folder went away; the next scan decides what to watch instead
          w.close();
          if (fsWatchers.get(dir) === w) fsWatchers.delete(dir);
          onFsEvent(dir, null);
        });
        fsWatchers.set(dir, w);
        added = true;
      } catch {
        onFsEvent(dir, null);
      }
    }
    return added;
  };

  const scan = async () => {
    let result: Snapshot;
    try {
      result = await store.read();
    } catch (err) {
      // keep the last good snapshot (e.g. a half-saved YAML file) and say why the store is unusable
      status.set(false, fail(err, 'read').message);
      // even a store that was never readable must be watched, or fixing it would go unnoticed
      if (!closed && subscribers.size > 0) syncFsWatchers(await store.fallbackDirs().catch(() => []), false);
      return;
    }
    // the last watcher may have gone while we were reading: do not start fs watchers for nobody
    if (closed || subscribers.size === 0) return;
    status.set(true);
    const before = snapshot;
    snapshot = result.data;
    if (before !== undefined) {
      for (const sub of [...subscribers]) {
        if (subscribers.has(sub)) {
          deliver(
            sub.onChange,
            diffMaps(before, result.data, (k) => specCovers(sub.spec, k)),
          );
        }
      }
    }
    gate.check(true);
    // a folder that just appeared may have received files before its watcher existed
    if (syncFsWatchers(result.dirs, true)) rescanRequested = true;
  };

  const requestScan = () => {
    if (closed || subscribers.size === 0) return;
    if (scanning) {
      rescanRequested = true;
      return;
    }
    scanning = (async () => {
      do {
        rescanRequested = false;
        await scan();
      } while (rescanRequested && !closed && subscribers.size > 0);
      scanning = undefined;
    })();
  };

  const stopMonitor = () => {
    clearTimeout(debounce);
    debounce = undefined;
    for (const w of fsWatchers.values()) w.close();
    fsWatchers = new Map();
    snapshot = undefined;
    gate.check(false);
  };

  const backend: KvBackend = {
    kind: 'file',
    url,
    location: path,
    get: (key) => guard(`get ${key}`, () => store.get(key)),
    list: (prefix) =>
      guard(`list ${prefix}`, async () => {
        const data = await store.list(prefix);
        return [...data]
          .sort(([a], [b]) => compareKeys(a, b))
          .map(([key, value]): KvPair => ({ key, value }));
      }),
    put: (key, value, putOpts) =>
      guard(`put ${key}`, () =>
        serialized(async () => {
          const lease = putOpts?.lease;
          const state = lease === undefined ? undefined : leases.get(lease);
          if (lease !== undefined && (state === undefined || state.revoked)) {
            throw new KvError(url, 'invalid', `put ${key}: unknown or revoked lease ${lease.id}`);
          }
          await store.put(key, value);
          // as in etcd: a put without the lease detaches the key from it
          for (const s of leases.values()) s.keys.delete(key);
          state?.keys.add(key);
        }),
      ),
    delete: (key, delOpts) =>
      guard(`delete ${key}`, () => serialized(() => store.delete(key, !!delOpts?.prefix))),
    watch(spec, onChange): Watcher {
      const sub: Subscriber = { spec: normalizeSpec(spec), onChange };
      if (!closed) {
        subscribers.add(sub);
        if (snapshot === undefined) requestScan();
      }
      let open = !closed;
      return {
        update(next) {
          sub.spec = normalizeSpec(next);
        },
        synced: () => (open && !closed ? gate.wait() : Promise.resolve()),
        async close() {
          if (!open) return;
          open = false;
          subscribers.delete(sub);
          if (subscribers.size === 0) stopMonitor();
          await scanning;
        },
      };
    },
    onStatus: (cb) => status.on(cb),
    status: () => status.get(),
    ...(store.fileOf
      ? {
          touch: (key: string) =>
            guard(`touch ${key}`, async () => {
              const file = store.fileOf?.(key);
              if (file === undefined) throw new KvError(url, 'invalid', `touch ${key}: not a key`);
              const now = new Date();
              await utimes(file, now, now);
            }),
          modifiedAt: (key: string) =>
            guard(`modifiedAt ${key}`, async () => {
              const file = store.fileOf?.(key);
              if (file === undefined) return undefined;
              try {
                return (await stat(file)).mtimeMs;
              } catch (err) {
                if (['ENOENT', 'ENOTDIR'].includes(code(err) ?? '')) return undefined;
                throw err;
              }
            }),
        }
      : {}),
    async grantLease(ttlMs) {
      if (closed) throw new KvError(url, 'closed', 'grantLease: the backend is closed');
      const state: LeaseState = { keys: new Set(), revoked: false };
      const lease: Lease = {
        id: `file-${process.pid}-${randomBytes(4).toString('hex')}`,
        ttlMs,
        revoke: async () => {
          if (state.revoked) return;
          state.revoked = true;
          leases.delete(lease);
          const keys = [...state.keys];
          state.keys.clear();
          await serialized(async () => {
            for (const key of keys) await store.delete(key, false);
          });
        },
        // nothing can expire a lease held by this very process
        onLost: () => {},
      };
      leases.set(lease, state);
      return lease;
    },
    async close() {
      if (closed) return;
      const outstanding = [...leases.keys()];
      await Promise.allSettled(outstanding.map((l) => l.revoke()));
      closed = true;
      subscribers.clear();
      stopMonitor();
      gate.check(true);
      await scanning;
      await writes;
    },
  };
  return backend;
}
