/** Small HTTP helpers for control-plane tests: JSON over the unix socket or TCP, with any headers. */
import { request } from 'node:http';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json<T = unknown>(): T;
}

export function http(
  target: { socketPath: string } | { url: string },
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const base =
      'socketPath' in target
        ? { socketPath: target.socketPath }
        : { host: new URL(target.url).hostname, port: Number(new URL(target.url).port) };
    const req = request(
      {
        ...base,
        path,
        method: opts.method ?? 'GET',
        headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...opts.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
        });
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/** Parses Prometheus text exposition strictly enough to catch malformed output; returns the samples. */
export function parsePrometheus(
  text: string,
): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  const typed = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
      if (!m) throw new Error(`bad comment line: ${line}`);
      if (m[1] === 'TYPE') {
        if (!/^(counter|gauge|histogram|summary|untyped)$/.test(m[3])) throw new Error(`bad type: ${line}`);
        typed.set(m[2], m[3]);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
      let lm: RegExpExecArray | null;
      let consumed = 0;
      // biome-ignore lint/suspicious/noAssignInExpressions: a sticky regex walks the label list
      while ((lm = re.exec(m[2])) !== null) {
        labels[lm[1]] = lm[2];
        consumed = re.lastIndex;
      }
      if (consumed !== m[2].length) throw new Error(`bad labels: ${line}`);
    }
    // as Prometheus reads them (Go's ParseFloat): NaN and Inf in any case
    const v = m[3].toLowerCase();
    const value = /^[+-]?inf$/.test(v)
      ? v.startsWith('-')
        ? -Infinity
        : Infinity
      : v === 'nan'
        ? Number.NaN
        : Number(m[3]);
    if (Number.isNaN(value) && v !== 'nan') throw new Error(`bad value: ${line}`);
    const family = m[1].replace(/_(bucket|sum|count|total|created)$/, '');
    if (!typed.has(m[1]) && !typed.has(family) && !typed.has(m[1].replace(/_(bucket|sum|count)$/, ''))) {
      throw new Error(`sample without TYPE: ${line}`);
    }
    samples.push({ name: m[1], labels, value });
  }
  return samples;
}
