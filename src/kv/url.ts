/**
 * KV store URLs.
 *
 *   file:./kv                 a folder, one file per key (relative to the manifest's folder)
 *   file:/etc/app/kv.yaml     one YAML (.yaml/.yml) or JSON (.json) file, flattened with `/`
 *   file:///etc/app/kv        the RFC 8089 form of an absolute path
 *   etcd://h1:2379,h2:2379/myapp/   etcd v3; the path is a namespace: every key lives under `myapp/`
 *   etcds://user:pass@h:2379        TLS; user/password authentication
 *   consul://h:8500/myapp/?dc=dc1&wait=5m   Consul HTTP API; the path is a key prefix as for etcd
 *   consuls://h:8501                HTTPS
 *
 * A URL without hosts (`etcd://`, `consul:///myapp/`) takes them from the environment (ETCDCTL_ENDPOINTS,
 * CONSUL_HTTP_ADDR), else the tools' defaults (127.0.0.1:2379, 127.0.0.1:8500). Hosts written in the URL win
 * over the environment; credentials and TLS files come from the environment as the official CLIs read them.
 */
import { fileURLToPath } from 'node:url';
import { KvError } from './common.js';
import type { ConsulKvConfig, EtcdKvConfig, FileKvConfig, KvConfig } from './types.js';

export const DEFAULT_KV_URL = 'file:./kv';

/** --kv, else TEND_KV, else the manifest's `kv`, else file:./kv. Empty strings count as unset. */
export function resolveKvUrl(opts: { flag?: string; env?: NodeJS.ProcessEnv; manifest?: string }): string {
  const env = opts.env ?? process.env;
  for (const candidate of [opts.flag, env.TEND_KV, opts.manifest]) {
    if (candidate !== undefined && candidate.trim() !== '') return candidate.trim();
  }
  return DEFAULT_KV_URL;
}

/** Replaces the password of a URL's user info with `***`. Used for every URL that reaches a log or status. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@/i, (_m, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon < 0 ? `${scheme}${userinfo}@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
  });
}

function invalid(url: string, message: string): KvError {
  return new KvError(redactUrl(url), 'invalid', message);
}

export function parseKvUrl(url: string, env: NodeJS.ProcessEnv = process.env): KvConfig {
  const trimmed = url.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(trimmed)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'file':
      return parseFileUrl(trimmed);
    case 'etcd':
    case 'etcds':
      return parseEtcdUrl(trimmed, env);
    case 'consul':
    case 'consuls':
      return parseConsulUrl(trimmed, env);
    default:
      throw invalid(
        trimmed,
        'unknown KV store URL: expected file:PATH, etcd://HOST:PORT or consul://HOST:PORT',
      );
  }
}

function parseFileUrl(url: string): FileKvConfig {
  let path: string;
  if (url.startsWith('file://')) {
    try {
      path = fileURLToPath(url);
    } catch (err) {
      throw invalid(url, `bad file URL (${(err as Error).message})`);
    }
  } else {
    path = decodeURIComponent(url.slice('file:'.length));
  }
  if (path === '') throw invalid(url, 'file: needs a path, e.g. file:./kv');
  const lower = path.toLowerCase();
  const format =
    lower.endsWith('.yaml') || lower.endsWith('.yml') ? 'yaml' : lower.endsWith('.json') ? 'json' : 'dir';
  return { kind: 'file', url, path, format };
}

interface Authority {
  user?: string;
  password?: string;
  hosts: string[];
  path: string;
  query: URLSearchParams;
}

/** WHATWG URL refuses `h1:2379,h2:2379`, so the authority is split by hand. */
function splitServerUrl(url: string, defaultPort: number): Authority {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:([^@/?#]*)@)?([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#.*)?$/i.exec(url);
  if (!m) throw invalid(url, 'expected SCHEME://[user:password@]host:port[,host:port…][/prefix/][?options]');
  const [, userinfo, hostList = '', path = '', query = ''] = m;
  const out: Authority = { hosts: [], path: decodeURIComponent(path), query: new URLSearchParams(query) };
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    out.user = decodeURIComponent(colon < 0 ? userinfo : userinfo.slice(0, colon));
    if (colon >= 0) out.password = decodeURIComponent(userinfo.slice(colon + 1));
  }
  for (const raw of hostList.split(',')) {
    const host = raw.trim();
    if (host === '') continue;
    out.hosts.push(normalizeHostPort(url, host, defaultPort));
  }
  return out;
}

function normalizeHostPort(url: string, hostPort: string, defaultPort: number): string {
  const v6 = /^\[([0-9a-f:.]+)\](?::(\d+))?$/i.exec(hostPort);
  if (v6) return `[${v6[1]}]:${checkPort(url, v6[2] ?? String(defaultPort))}`;
  const m = /^([^:[\]]+)(?::(\d*))?$/.exec(hostPort);
  if (!m) throw invalid(url, `bad host "${hostPort}"`);
  const port = m[2] === undefined || m[2] === '' ? String(defaultPort) : m[2];
  return `${m[1]}:${checkPort(url, port)}`;
}

function checkPort(url: string, port: string): number {
  const n = Number(port);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw invalid(url, `bad port "${port}"`);
  return n;
}

/** `/myapp` and `/myapp/` both mean the namespace `myapp/`; `/` or nothing means no namespace. */
function namespaceFromPath(path: string): string {
  const trimmed = path.replace(/^\/+/, '');
  if (trimmed === '') return '';
  return trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
}

/** Strips `http(s)://` from an endpoint written as etcdctl/consul accept it, remembering whether it was TLS. */
function endpointFromEnv(url: string, value: string, defaultPort: number): { host: string; tls: boolean } {
  const m = /^(https?):\/\/(.*?)\/?$/i.exec(value.trim());
  const tls = m?.[1]?.toLowerCase() === 'https';
  return { host: normalizeHostPort(url, m ? m[2] : value.trim(), defaultPort), tls };
}

function canonicalUrl(
  scheme: string,
  user: string | undefined,
  hosts: string[],
  prefix: string,
  query = '',
): string {
  const auth = user === undefined ? '' : `${encodeURIComponent(user)}:***@`;
  return `${scheme}://${auth}${hosts.join(',')}${prefix === '' ? '' : `/${prefix}`}${query}`;
}

function parseEtcdUrl(url: string, env: NodeJS.ProcessEnv): EtcdKvConfig {
  const secureScheme = url.toLowerCase().startsWith('etcds:');
  const a = splitServerUrl(url, 2379);
  let endpoints = a.hosts;
  let tls = secureScheme;
  if (endpoints.length === 0) {
    const fromEnv = (env.ETCDCTL_ENDPOINTS ?? '').split(',').filter((s) => s.trim() !== '');
    const parsed = fromEnv.map((e) => endpointFromEnv(url, e, 2379));
    endpoints = parsed.length > 0 ? parsed.map((p) => p.host) : ['127.0.0.1:2379'];
    tls ||= parsed.some((p) => p.tls);
  }
  const caFile = env.ETCDCTL_CACERT || undefined;
  const certFile = env.ETCDCTL_CERT || undefined;
  const keyFile = env.ETCDCTL_KEY || undefined;
  tls ||= caFile !== undefined || certFile !== undefined;
  let { user: username, password } = a;
  if (username === undefined && env.ETCDCTL_USER) {
    // etcdctl accepts "user:password" in ETCDCTL_USER, or the password apart in ETCDCTL_PASSWORD
    const colon = env.ETCDCTL_USER.indexOf(':');
    username = colon < 0 ? env.ETCDCTL_USER : env.ETCDCTL_USER.slice(0, colon);
    password = colon < 0 ? env.ETCDCTL_PASSWORD : env.ETCDCTL_USER.slice(colon + 1);
  }
  if (username !== undefined && password === undefined) {
    throw invalid(url, `etcd user "${username}" has no password (etcd://user:password@host or ETCDCTL_USER)`);
  }
  const prefix = namespaceFromPath(a.path);
  const config: EtcdKvConfig = {
    kind: 'etcd',
    url: canonicalUrl(tls ? 'etcds' : 'etcd', username, endpoints, prefix),
    endpoints,
    tls,
    prefix,
  };
  if (username !== undefined) Object.assign(config, { username, password });
  if (caFile) config.caFile = caFile;
  if (certFile) config.certFile = certFile;
  if (keyFile) config.keyFile = keyFile;
  return config;
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

function parseWait(url: string, text: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) throw invalid(url, `bad wait "${text}" (expected e.g. 30s or 5m)`);
  const ms = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  // Consul caps blocking queries at 10 minutes
  if (ms < 1 || ms > 600_000) throw invalid(url, `wait must be between 1ms and 10m, got "${text}"`);
  return ms;
}

function parseConsulUrl(url: string, env: NodeJS.ProcessEnv): ConsulKvConfig {
  const secureScheme = url.toLowerCase().startsWith('consuls:');
  const a = splitServerUrl(url, secureScheme ? 8501 : 8500);
  if (a.hosts.length > 1)
    throw invalid(url, 'consul:// takes one agent address (the agent talks to the cluster)');
  let address = a.hosts[0];
  let tls = secureScheme || /^(1|true|yes)$/i.test(env.CONSUL_HTTP_SSL ?? '');
  if (address === undefined) {
    const fromEnv = env.CONSUL_HTTP_ADDR?.trim();
    if (fromEnv?.startsWith('unix:')) throw invalid(url, 'CONSUL_HTTP_ADDR: unix sockets are not supported');
    if (fromEnv) {
      const parsed = endpointFromEnv(url, fromEnv, tls ? 8501 : 8500);
      address = parsed.host;
      tls ||= parsed.tls;
    } else {
      address = '127.0.0.1:8500';
    }
  }
  const config: ConsulKvConfig = {
    kind: 'consul',
    url: '',
    address,
    tls,
    insecure: /^(0|false|no)$/i.test(env.CONSUL_HTTP_SSL_VERIFY ?? ''),
    prefix: namespaceFromPath(a.path),
    waitMs: 300_000,
  };
  if (a.password !== undefined || a.user !== undefined) {
    throw invalid(url, 'put the Consul token in CONSUL_HTTP_TOKEN, not in the URL');
  }
  for (const [name, value] of a.query) {
    if (name === 'dc') config.datacenter = value;
    else if (name === 'wait') config.waitMs = parseWait(url, value);
    else throw invalid(url, `unknown option "${name}" (known: dc, wait)`);
  }
  if (env.CONSUL_HTTP_TOKEN) config.token = env.CONSUL_HTTP_TOKEN;
  else if (env.CONSUL_HTTP_TOKEN_FILE) config.tokenFile = env.CONSUL_HTTP_TOKEN_FILE;
  if (env.CONSUL_CACERT) config.caFile = env.CONSUL_CACERT;
  if (env.CONSUL_CLIENT_CERT) config.certFile = env.CONSUL_CLIENT_CERT;
  if (env.CONSUL_CLIENT_KEY) config.keyFile = env.CONSUL_CLIENT_KEY;
  const query = a.query.toString();
  config.url = canonicalUrl(
    tls ? 'consuls' : 'consul',
    undefined,
    [address],
    config.prefix,
    query ? `?${query}` : '',
  );
  return config;
}
