/**
 * One template rendered to completion against a snapshot: render, fetch what the render lacked, render again,
 * until nothing new can be fetched. Then it is complete, incomplete (missing keys, a sentinel) or an error.
 * Shared by the render loop, `tend render` and `tend template`.
 */
import type { WatchSpec } from '../kv/index.js';
import type { Deps, Template, TemplateSource } from '../template/index.js';
import { renderWithSource, TemplateError } from '../template/index.js';
import type { Snapshot } from './snapshot.js';

export type Resolved =
  | { status: 'complete'; output: string; deps: Deps }
  /** missing lists `key:PATH`, `prefix:PATH`, `service:QUERY`, `file:PATH`, or `sentinel:TEXT` */
  | { status: 'incomplete'; missing: string[]; reason: string; deps: Deps }
  | { status: 'error'; reason: string; deps?: Deps };

/** What one render read: KV keys and prefixes, and discovery (`service:NAME`, `services`). */
export interface Reads extends WatchSpec {
  discovery: string[];
}

export interface ResolveOptions {
  missing: 'wait' | 'fail' | 'empty';
  sentinel?: string;
  /** the environment `env` reads */
  env: Record<string, string | undefined>;
  /** called after every pass with what the render read (even one that failed), to watch it */
  onDeps?: (reads: Reads) => void;
  /** stop waiting for more data after this many fetches (a template whose reads never settle) */
  maxFetches?: number;
}

export function describeMissing(missing: string[]): string {
  return missing
    .map((m) => (m.startsWith('sentinel:') ? `the sentinel ${JSON.stringify(m.slice(9))} in its output` : m))
    .join(', ');
}

/** Throws the store's KvError when it does not answer; template problems are results, not exceptions. */
export async function resolveTemplate(
  tpl: Template,
  data: unknown,
  snapshot: Snapshot,
  opts: ResolveOptions,
): Promise<Resolved> {
  const max = opts.maxFetches ?? 32;
  for (let fetches = 0; ; fetches++) {
    // Recorded here rather than taken from the result: a render that throws still has to be watched, so
    // that fixing the value it choked on renders it again.
    const src = snapshot.source(opts.env);
    const read = { keys: new Set<string>(), prefixes: new Set<string>(), others: new Set<string>() };
    const recording: TemplateSource = {
      ...src,
      key(path) {
        read.keys.add(path);
        return src.key(path);
      },
      list(prefix) {
        read.prefixes.add(prefix);
        return src.list(prefix);
      },
      service(name, o) {
        read.others.add(`service:${name}`);
        return src.service(name, o);
      },
      services(dc, o) {
        read.others.add('services');
        return src.services(dc, o);
      },
    };
    const reads = (): Reads => ({
      keys: [...read.keys].sort(),
      prefixes: [...read.prefixes].sort(),
      discovery: [...read.others].sort(),
    });
    let r: ReturnType<typeof renderWithSource>;
    try {
      r = renderWithSource(tpl, data, recording);
    } catch (e) {
      opts.onDeps?.(reads());
      if (e instanceof TemplateError) return { status: 'error', reason: e.message };
      throw e;
    }
    opts.onDeps?.(reads());
    const want = snapshot.unknown(r.missing);
    if (fetches < max && (want.keys.length > 0 || want.prefixes.length > 0)) {
      await snapshot.fetch(want);
      continue;
    }
    if (r.missing.length > 0) {
      // With `empty` the gaps render as empty values; an error then is the template's own.
      if (opts.missing === 'empty') {
        if (r.error) return { status: 'error', reason: r.error.message, deps: r.deps };
      } else {
        return {
          status: 'incomplete',
          missing: r.missing,
          reason: `needs ${describeMissing(r.missing)}`,
          deps: r.deps,
        };
      }
    }
    if (opts.sentinel !== undefined && r.output.includes(opts.sentinel)) {
      const missing = [`sentinel:${opts.sentinel}`];
      return { status: 'incomplete', missing, reason: `has ${describeMissing(missing)}`, deps: r.deps };
    }
    return { status: 'complete', output: r.output, deps: r.deps };
  }
}
