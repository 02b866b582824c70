/**
 * Key/value stores behind one interface: `file` (embedded default), `etcd` v3, `consul`. The render loop,
 * discovery and the settings overlay talk to a KvBackend and never to a particular store; each backend keeps its
 * own rules (Consul's index resets, etcd's compaction, fs.watch quirks) to itself. See types.ts for the contract
 * and url.ts for the URL forms.
 */
import { createFileBackend } from './file.js';
import { lazyBackend } from './lazy.js';
import { defaultTiming, type KvBackend, type KvTiming } from './types.js';
import { parseKvUrl, redactUrl } from './url.js';

export { KvError, type KvErrorCode } from './common.js';
export { type ConsulHttp, type ConsulHttpResult, createConsulHttp } from './consul-http.js';
export type {
  ConsulEntry,
  ConsulKvConfig,
  ConsulSessions,
  EtcdKvConfig,
  FileKvConfig,
  KvBackend,
  KvChange,
  KvConfig,
  KvKind,
  KvNotice,
  KvPair,
  KvStatus,
  KvTiming,
  Lease,
  Watcher,
  WatchSpec,
} from './types.js';
export { DEFAULT_KV_URL, parseKvUrl, redactUrl, resolveKvUrl } from './url.js';

export interface OpenKvOptions {
  /** environment for ETCDCTL_* and CONSUL_* (default process.env) */
  env?: NodeJS.ProcessEnv;
  /** folder that relative `file:` paths are resolved against (default: the current directory) */
  baseDir?: string;
  /** timings, for tests */
  timing?: Partial<KvTiming>;
}

/**
 * Opens a store. Does no I/O: connections are made on first use, an unreachable server is reported through
 * onStatus and retried, and only a malformed URL throws (a KvError with code 'invalid').
 */
export function openKv(url: string, opts: OpenKvOptions = {}): KvBackend {
  const config = parseKvUrl(url, opts.env ?? process.env);
  const timing: KvTiming = { ...defaultTiming, ...opts.timing };
  switch (config.kind) {
    case 'file':
      return createFileBackend(config, { baseDir: opts.baseDir ?? process.cwd(), timing });
    // Each remote client loads on first use (etcd's pulls gRPC and protobuf in; Consul's is 20 kB of code): a
    // `tend up` on a file store, and every client command, never compiles them.
    case 'etcd':
      return lazyBackend('etcd', redactUrl(config.url), async () =>
        (await import('./etcd.js')).createEtcdBackend(config, { timing }),
      );
    case 'consul':
      return lazyBackend('consul', config.url, async () =>
        (await import('./consul.js')).createConsulBackend(config, { timing }),
      );
  }
}
