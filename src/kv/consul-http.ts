/**
 * The HTTP client of a Consul agent, shared by the KV backend and the service registry: one place for the
 * address, TLS files, the ACL token and the keep-alive agent. Nothing is read or connected until the first
 * request, so opening a backend does no I/O.
 */
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { ConsulKvConfig } from './types.js';

export interface ConsulHttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface ConsulRequestOptions {
  query?: Record<string, string>;
  /** a string is sent as is; anything else as JSON */
  body?: unknown;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** add `?dc=` of the URL (default true) */
  dc?: boolean;
}

export interface ConsulHttp {
  request(
    method: 'GET' | 'PUT' | 'DELETE',
    path: string,
    o?: ConsulRequestOptions,
  ): Promise<ConsulHttpResult>;
  close(): void;
}

export function createConsulHttp(
  config: ConsulKvConfig,
  opts: {
    requestTimeoutMs: number;
    /** reads the token, CA and client certificate files; lets the caller word the error */
    readFile?: (file: string, what: string) => Buffer;
    /** throws when the owner is closed */
    checkOpen?: () => void;
  },
): ConsulHttp {
  const readFile = opts.readFile ?? ((file: string) => readFileSync(file));
  let agent: HttpAgent | undefined;
  let token: string | undefined = config.token;

  const getAgent = (): HttpAgent => {
    opts.checkOpen?.();
    if (agent) return agent;
    if (token === undefined && config.tokenFile)
      token = readFile(config.tokenFile, 'token file').toString().trim();
    agent = config.tls
      ? new HttpsAgent({
          keepAlive: true,
          ca: config.caFile ? readFile(config.caFile, 'CA certificate') : undefined,
          cert: config.certFile ? readFile(config.certFile, 'client certificate') : undefined,
          key: config.keyFile ? readFile(config.keyFile, 'client key') : undefined,
          rejectUnauthorized: !config.insecure,
        })
      : new HttpAgent({ keepAlive: true });
    return agent;
  };

  return {
    request(method, path, o = {}) {
      const httpAgent = getAgent();
      const params = new URLSearchParams(o.query);
      if (o.dc !== false && config.datacenter) params.set('dc', config.datacenter);
      // Consul reads flags such as `recurse` by presence; `recurse=` is what URLSearchParams writes and is accepted
      const qs = params.toString();
      const headers: Record<string, string> = {};
      if (token) headers['X-Consul-Token'] = token;
      let payload: string | undefined;
      if (typeof o.body === 'string') payload = o.body;
      else if (o.body !== undefined) {
        payload = JSON.stringify(o.body);
        headers['Content-Type'] = 'application/json';
      }
      if (payload !== undefined) headers['Content-Length'] = String(Buffer.byteLength(payload));
      const send = config.tls ? httpsRequest : httpRequest;
      const [host, port] = splitAddress(config.address);
      return new Promise((resolve, reject) => {
        const req = send(
          {
            host,
            port,
            method,
            path: `${path}${qs ? `?${qs}` : ''}`,
            headers,
            agent: httpAgent,
            signal: o.signal,
            timeout: o.timeoutMs ?? opts.requestTimeoutMs,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                body: Buffer.concat(chunks).toString(),
              }),
            );
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error('request timed out')));
        req.on('error', reject);
        req.end(payload);
      });
    },
    close() {
      agent?.destroy();
    },
  };
}

export function splitAddress(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return [host, Number(address.slice(colon + 1))];
}
