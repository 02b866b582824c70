/**
 * The shape of the tree, as ARCHITECTURE.md draws it: which folder may import which. A module that reaches for
 * a peer (control importing guard, render importing discovery) fails here; so does an import circle between
 * files. When a new arrow is right, add it here and to the table in ARCHITECTURE.md in the same commit.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src', import.meta.url));

/** Low libraries: they know nothing of tend's run. */
const LIBRARIES = ['fsx', 'time', 'events', 'template', 'manifest'] as const;

/**
 * folder → the folders it may import. Libraries first, then the supervisor core, the types-only runtime, the
 * plug-in modules (which never import each other), and on top the composition root and the commands.
 */
const ALLOWED: Record<string, readonly string[]> = {
  fsx: [],
  time: [],
  events: [],
  // writeToFile creates folders
  template: ['fsx'],
  // the manifest checks template options (functions.allow/deny) against the engine's function names
  manifest: ['template', 'fsx'],
  kv: ['fsx', 'time'],
  procs: ['fsx', 'time'],
  logs: ['fsx', 'time', 'manifest'],
  settings: ['fsx', 'time', 'manifest'],
  supervisor: ['fsx', 'time', 'events', 'manifest', 'logs', 'procs'],
  // types only (plus EXIT, StartError, VERSION): what modules share without importing each other
  runtime: ['events', 'kv', 'logs', 'manifest', 'supervisor', 'template'],
  // the plug-in modules: libraries, the supervisor and the runtime, never a peer
  metrics: [...LIBRARIES, 'logs', 'supervisor', 'runtime'],
  notify: [...LIBRARIES, 'procs', 'runtime'],
  lifecycle: [...LIBRARIES, 'logs', 'procs', 'settings', 'supervisor', 'runtime'],
  render: [...LIBRARIES, 'kv', 'procs', 'settings', 'supervisor', 'runtime'],
  health: [...LIBRARIES, 'logs', 'procs', 'supervisor', 'runtime'],
  discovery: [...LIBRARIES, 'kv', 'supervisor', 'runtime'],
  // procs: `tend status` and the dashboard read CPU and memory of each service's process group from /proc
  control: [...LIBRARIES, 'logs', 'procs', 'settings', 'supervisor', 'runtime'],
  guard: [...LIBRARIES, 'procs', 'supervisor', 'runtime'],
  // procs: the rollout semaphore of file stores is lock files (flock)
  fleet: [...LIBRARIES, 'kv', 'procs', 'supervisor', 'runtime'],
  // deployment files from a manifest: a command-level library
  export: [...LIBRARIES, 'kv', 'settings', 'render', 'lifecycle', 'runtime'],
  // the composition root: the only place that knows every module
  app: [
    ...LIBRARIES,
    'kv',
    'procs',
    'logs',
    'settings',
    'supervisor',
    'runtime',
    'metrics',
    'notify',
    'lifecycle',
    'render',
    'health',
    'discovery',
    'control',
    'guard',
    'fleet',
  ],
  // the commands: parse, load the plan, call the app or a library, print
  cli: [
    ...LIBRARIES,
    'kv',
    'settings',
    'supervisor',
    'runtime',
    'app',
    'control',
    'export',
    'lifecycle',
    'render',
    'fleet',
  ],
};

/**
 * Arrows that exist today and are being removed (each names why it is still here). Kept short and explicit:
 * the test fails when one of them is gone, so the list cannot go stale.
 */
const PENDING: Array<{ from: string; to: string; why: string }> = [];

interface Edge {
  file: string;
  target: string;
  typeOnly: boolean;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return files(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(import|export)\s+(type\s+)?[^'";]*?from\s+'(\.[^']+)'|import\('(\.[^']+)'\)/g;

function edgesOf(file: string): Edge[] {
  const text = readFileSync(file, 'utf8');
  const edges: Edge[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[3] ?? m[4];
    const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
    edges.push({ file, target, typeOnly: Boolean(m[2]) });
  }
  return edges;
}

const folderOf = (file: string) => relative(SRC, file).split('/')[0];

const all = files(SRC);
const edges = all.flatMap(edgesOf);

describe('the allowed arrows between folders', () => {
  it('every folder of src is in the table', () => {
    const folders = [...new Set(all.map(folderOf))].filter((f) => !f.endsWith('.ts')).sort();
    expect(folders.filter((f) => !(f in ALLOWED))).toEqual([]);
  });

  it('no folder imports one it may not (modules never import their peers)', () => {
    const pending = new Set(PENDING.map((p) => `${p.from} -> ${p.to}`));
    const wrong = new Set<string>();
    for (const e of edges) {
      const from = folderOf(e.file);
      const to = folderOf(e.target);
      if (from === to) continue;
      if (ALLOWED[from]?.includes(to) || pending.has(`${from} -> ${to}`)) continue;
      wrong.add(`${relative(SRC, e.file)} -> ${relative(SRC, e.target)}`);
    }
    expect([...wrong].sort()).toEqual([]);
  });

  it('each pending arrow still exists (remove it from the list once it is gone)', () => {
    const seen = new Set(edges.map((e) => `${folderOf(e.file)} -> ${folderOf(e.target)}`));
    expect(PENDING.map((p) => `${p.from} -> ${p.to}`).filter((a) => !seen.has(a))).toEqual([]);
  });

  it('src/runtime holds types, the exit codes and the version only', () => {
    const runtime = edges.filter((e) => folderOf(e.file) === 'runtime' && folderOf(e.target) !== 'runtime');
    expect(runtime.filter((e) => !e.typeOnly).map((e) => relative(SRC, e.target))).toEqual([]);
  });

  it('no import circle between files (type-only imports included)', () => {
    const graph = new Map<string, string[]>();
    for (const e of edges) graph.set(e.file, [...(graph.get(e.file) ?? []), e.target]);
    const circles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, 'open');
      stack.push(f);
      for (const t of graph.get(f) ?? []) {
        if (state.get(t) === 'open') {
          circles.push(
            stack
              .slice(stack.indexOf(t))
              .concat(t)
              .map((x) => relative(SRC, x))
              .join(' -> '),
          );
        } else if (!state.has(t)) visit(t);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of all) if (!state.has(f)) visit(f);
    expect(circles).toEqual([]);
  });
});
