/**
 * YAML text → a small tree of located values, interpolated. The decoders work on this tree instead of the
 * `yaml` library's nodes so that YAML's quirks (aliases, merge keys, duplicate keys, keys that are numbers)
 * are settled once here, and every value still knows its line and column.
 */
import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
} from 'yaml';
import { interpolate } from './interpolate.js';

export interface Pos {
  /** 1-based */
  line: number;
  /** 1-based */
  column: number;
}

export type Scalar = string | number | boolean | null;

export type LNode =
  | {
      t: 'scalar';
      value: Scalar;
      /** the text as written, for numbers whose spelling matters (`0640`, `1.50`) */
      raw: string;
      /** the value came out of `${...}` interpolation */
      interpolated: boolean;
      /** its interpolation failed (already reported): decoders stay quiet about it rather than repeat */
      broken?: boolean;
      pos: Pos;
    }
  | { t: 'map'; entries: LEntry[]; pos: Pos }
  | { t: 'seq'; items: LNode[]; pos: Pos };

export interface LEntry {
  key: string;
  keyPos: Pos;
  value: LNode;
}

export interface Note {
  pos: Pos;
  message: string;
}

export interface ParsedTree {
  root: LNode;
  errors: Note[];
  warnings: Note[];
  /** YAML syntax errors: the tree is not worth validating */
  fatal: boolean;
}

export function parseTree(text: string, env: NodeJS.ProcessEnv): ParsedTree {
  const lc = new LineCounter();
  // Duplicate keys are detected below, with a better message; the parser's own check would only repeat them.
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: false });
  const at = (offset: number): Pos => {
    const p = lc.linePos(offset);
    return { line: p.line, column: p.col };
  };
  const errors: Note[] = doc.errors.map((e) => ({ pos: at(e.pos[0]), message: yamlMessage(e.message) }));
  const warnings: Note[] = doc.warnings.map((e) => ({ pos: at(e.pos[0]), message: yamlMessage(e.message) }));
  const start = { line: 1, column: 1 };
  if (errors.length > 0) return { root: nullAt(start), errors, warnings, fatal: true };

  const cx: Cx = { text, env, doc, at, errors, warnings, seen: new Map(), active: new Set() };
  const root = doc.contents ? convert(doc.contents as Node, cx, start) : nullAt(start);
  return { root, errors, warnings, fatal: false };
}

export function nullAt(pos: Pos): LNode {
  return { t: 'scalar', value: null, raw: '', interpolated: false, pos };
}

/** Turns a plain JS value (a default) into a tree placed at `pos`, so defaults go through the same decoders. */
export function fromJS(v: unknown, pos: Pos): LNode {
  if (Array.isArray(v)) return { t: 'seq', items: v.map((x) => fromJS(x, pos)), pos };
  if (v !== null && typeof v === 'object') {
    return {
      t: 'map',
      entries: Object.entries(v).map(([key, x]) => ({ key, keyPos: pos, value: fromJS(x, pos) })),
      pos,
    };
  }
  const value = v === undefined ? null : (v as Scalar);
  return { t: 'scalar', value, raw: value === null ? '' : String(value), interpolated: false, pos };
}

interface Cx {
  text: string;
  env: NodeJS.ProcessEnv;
  doc: Document;
  at: (offset: number) => Pos;
  errors: Note[];
  warnings: Note[];
  /** aliased nodes are converted (and interpolated, and warned about) once */
  seen: Map<Node, LNode>;
  /** nodes being converted, to refuse an alias inside its own anchor */
  active: Set<Node>;
}

// The parser's messages end with a position suffix in some versions; ours carry the position separately.
function yamlMessage(m: string): string {
  return `YAML: ${m.replace(/ at line \d+, column \d+:?[\s\S]*$/, '')}`;
}

function convert(node: Node, cx: Cx, fallback: Pos): LNode {
  if (isAlias(node)) {
    const target = node.resolve(cx.doc);
    if (!target || cx.active.has(target)) {
      cx.errors.push({
        pos: posOf(node, cx, fallback),
        message: `YAML: alias *${node.source} cannot be resolved`,
      });
      return nullAt(posOf(node, cx, fallback));
    }
    return convert(target, cx, fallback);
  }
  const done = cx.seen.get(node);
  if (done) return done;
  cx.active.add(node);
  const out = convertNew(node, cx, fallback);
  cx.active.delete(node);
  cx.seen.set(node, out);
  return out;
}

function convertNew(node: Node, cx: Cx, fallback: Pos): LNode {
  const pos = posOf(node, cx, fallback);
  if (isScalar(node)) {
    const v = node.value;
    if (typeof v === 'string') return interpolated(v, node.range, pos, cx);
    if (v === null || v === undefined) return nullAt(pos);
    if (typeof v === 'number' || typeof v === 'boolean') {
      return { t: 'scalar', value: v, raw: node.source ?? String(v), interpolated: false, pos };
    }
    // Only YAML 1.2 core types reach here in practice; anything exotic (binary, custom tags) is kept as text.
    return { t: 'scalar', value: String(v), raw: node.source ?? String(v), interpolated: false, pos };
  }
  if (isSeq(node)) {
    return { t: 'seq', items: node.items.map((x) => convertItem(x, cx, pos)), pos };
  }
  if (isMap(node)) {
    const entries: LEntry[] = [];
    const first = new Map<string, Pos>();
    const merged: LEntry[] = [];
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as Node | null;
      const keyPos = keyNode ? posOf(keyNode, cx, pos) : pos;
      const key = keyText(keyNode);
      if (key === undefined) {
        cx.errors.push({ pos: keyPos, message: 'keys must be plain strings' });
        continue;
      }
      const valuePos = pair.value ? posOf(pair.value as Node, cx, keyPos) : keyPos;
      // An empty value (`web:`) has no text of its own; pointing at its key is clearer than at the colon.
      const value =
        pair.value && !(isScalar(pair.value) && pair.value.value === null && pair.value.source === '')
          ? convert(pair.value as Node, cx, valuePos)
          : nullAt(keyPos);
      if (key === '<<') {
        merged.push(...mergeSources(value, keyPos, cx));
        continue;
      }
      const prev = first.get(key);
      if (prev) {
        cx.errors.push({
          pos: keyPos,
          message: `duplicate key "${key}" (first defined at line ${prev.line})`,
        });
        continue;
      }
      first.set(key, keyPos);
      entries.push({ key, keyPos, value });
    }
    // YAML merge keys (`<<: *defaults`): explicit keys win, then earlier sources over later ones.
    for (const e of merged) {
      if (!first.has(e.key)) {
        first.set(e.key, e.keyPos);
        entries.push(e);
      }
    }
    return { t: 'map', entries, pos };
  }
  return nullAt(pos);
}

function convertItem(x: unknown, cx: Cx, fallback: Pos): LNode {
  if (x === null || x === undefined) return nullAt(fallback);
  if (isPair(x)) {
    // `- key: value` inside a flow sequence is a one-pair map in YAML.
    const keyPos = x.key ? posOf(x.key as Node, cx, fallback) : fallback;
    const key = keyText(x.key as Node | null) ?? '';
    return {
      t: 'map',
      entries: [{ key, keyPos, value: x.value ? convert(x.value as Node, cx, keyPos) : nullAt(keyPos) }],
      pos: keyPos,
    };
  }
  return convert(x as Node, cx, fallback);
}

function mergeSources(value: LNode, pos: Pos, cx: Cx): LEntry[] {
  const sources = value.t === 'seq' ? value.items : [value];
  const out: LEntry[] = [];
  for (const s of sources) {
    if (s.t !== 'map') {
      cx.errors.push({ pos: s.pos ?? pos, message: 'YAML: a merge key "<<" needs a map or a list of maps' });
      continue;
    }
    for (const e of s.entries) if (!out.some((o) => o.key === e.key)) out.push(e);
  }
  return out;
}

function keyText(k: Node | null): string | undefined {
  if (k === null) return undefined;
  if (isScalar(k)) {
    const v = k.value;
    if (typeof v === 'string') return v;
    // `8080:` or `true:` as a key: keep the spelling, service names like `123` are legitimate.
    if (typeof v === 'number' || typeof v === 'boolean') return k.source ?? String(v);
  }
  return undefined;
}

function posOf(node: Node, cx: Cx, fallback: Pos): Pos {
  return node.range ? cx.at(node.range[0]) : fallback;
}

function interpolated(v: string, range: Node['range'], pos: Pos, cx: Cx): LNode {
  if (!v.includes('$')) return { t: 'scalar', value: v, raw: v, interpolated: false, pos };
  const r = interpolate(v, cx.env);
  const source = range ? cx.text.slice(range[0], range[1]) : '';
  // Point at the expression itself when it appears verbatim in the source (it does unless escaped in quotes).
  const where = (raw: string): Pos => {
    const i = range ? source.indexOf(raw) : -1;
    return i >= 0 && range ? cx.at(range[0] + i) : pos;
  };
  for (const w of r.warnings) cx.warnings.push({ pos: where(w.raw), message: w.message });
  for (const e of r.errors) cx.errors.push({ pos: where(e.raw), message: e.message });
  const broken = r.errors.length > 0;
  return {
    t: 'scalar',
    value: r.value,
    raw: r.value,
    interpolated: v.includes('${'),
    pos,
    ...(broken ? { broken } : {}),
  };
}
