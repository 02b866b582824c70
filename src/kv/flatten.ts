/**
 * One YAML or JSON document seen as keys: nested maps become `a/b/c`, list items `a/0`, `a/1/name`; scalars are
 * strings. YAML numbers and booleans keep the text they were written with (`1.10` stays "1.10"), null and empty
 * values are "". Empty maps and lists hold no key. A map key containing `/` yields the same key as the nested
 * form; when both exist, the later one in the document wins.
 *
 * Writes edit the document in place so that YAML comments and layout survive; JSON is re-serialized with
 * two-space indentation.
 */
import YAML, { type Document, isAlias, isMap, isScalar, isSeq, type Node } from 'yaml';

export type FlatFormat = 'yaml' | 'json';

export class FlatDocError extends Error {}

export interface FlatDoc {
  format: FlatFormat;
  /** the parsed document (YAML) or value (JSON) */
  yaml?: Document;
  json?: unknown;
}

export function parseFlatDoc(text: string, format: FlatFormat, file: string): FlatDoc {
  if (format === 'json') {
    if (text.trim() === '') return { format, json: {} };
    try {
      return { format, json: JSON.parse(text) };
    } catch (err) {
      throw new FlatDocError(`${file}: ${(err as Error).message}`);
    }
  }
  // big integers would otherwise be rewritten rounded the next time tend saves the file
  const doc = YAML.parseDocument(text, { intAsBigInt: true, prettyErrors: true, uniqueKeys: false });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0];
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
    throw new FlatDocError(`${where}: ${first.message.split('\n')[0]}`);
  }
  return { format, yaml: doc };
}

function join(prefix: string, segment: string): string {
  return prefix === '' ? segment : `${prefix}/${segment}`;
}

function scalarText(value: unknown, source: string | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (source !== undefined && source !== '') return source;
  return String(value);
}

/** values reached through aliases, at most: far above any hand-written document, far below a stall */
const MAX_ALIAS_NODES = 100_000;

export function flattenDoc(doc: FlatDoc, file: string): Map<string, string> {
  const out = new Map<string, string>();
  if (doc.format === 'json') {
    flattenJson(doc.json, '', out, file);
    return out;
  }
  const yamlDoc = doc.yaml as Document;
  // Aliases are followed, so a few lines can stand for an exponential number of keys ("billion laughs") or
  // for a node that contains itself: both are refused as a malformed document instead of freezing tend.
  const ancestors = new Set<unknown>();
  let viaAlias = 0;
  const walk = (node: unknown, path: string, aliased: boolean) => {
    let target = node;
    if (isAlias(node)) {
      target = node.resolve(yamlDoc);
      aliased = true;
      if (ancestors.has(target)) {
        throw new FlatDocError(
          `${file}: the alias *${node.source} at ${path || 'the top'} refers to a node that contains it`,
        );
      }
    }
    if (aliased && ++viaAlias > MAX_ALIAS_NODES)
      throw new FlatDocError(`${file}: aliases expand to more than ${MAX_ALIAS_NODES} values`);
    if (isMap(target)) {
      ancestors.add(target);
      for (const pair of target.items) {
        const key = isScalar(pair.key) ? scalarText(pair.key.value, pair.key.source) : String(pair.key);
        walk(pair.value, join(path, key), aliased);
      }
      ancestors.delete(target);
    } else if (isSeq(target)) {
      ancestors.add(target);
      target.items.forEach((item, i) => {
        walk(item, join(path, String(i)), aliased);
      });
      ancestors.delete(target);
    } else if (path === '') {
      if (isScalar(target) && target.value !== null) {
        throw new FlatDocError(`${file}: the top level must be a mapping (or a list)`);
      }
    } else if (isScalar(target)) {
      out.set(path, scalarText(target.value, target.source));
    } else {
      out.set(path, '');
    }
  };
  walk(yamlDoc.contents, '', false);
  return out;
}

function flattenJson(value: unknown, path: string, out: Map<string, string>, file: string): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      flattenJson(item, join(path, String(i)), out, file);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flattenJson(v, join(path, k), out, file);
  } else if (path === '') {
    if (value !== null) throw new FlatDocError(`${file}: the top level must be an object (or an array)`);
  } else {
    out.set(path, scalarText(value, undefined));
  }
}

/** a list index, or a map key as the document spells it (string, number, bigint, boolean…) */
type Segment = unknown;

/**
 * Maps a flat key onto the document's real path (list indexes as numbers, existing map keys as they are
 * spelled in the document, which may be numbers or booleans in YAML). Segments below the deepest existing node
 * stay strings and become nested maps.
 */
function resolveYamlPath(doc: Document, key: string): { path: Segment[]; exists: boolean } {
  const segments = key.split('/');
  const path: Segment[] = [];
  let node: unknown = doc.contents;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    const current = isAlias(node) ? node.resolve(doc) : node;
    if (isMap(current)) {
      const pair = current.items.find(
        (p) => (isScalar(p.key) ? scalarText(p.key.value, p.key.source) : String(p.key)) === seg,
      );
      if (!pair) return { path: [...path, ...segments.slice(i)], exists: false };
      path.push(isScalar(pair.key) ? pair.key.value : seg);
      node = pair.value;
    } else if (isSeq(current)) {
      const index = /^(0|[1-9]\d*)$/.test(seg) ? Number(seg) : Number.NaN;
      if (Number.isNaN(index) || index > current.items.length) {
        throw new FlatDocError(
          `"${segments.slice(0, i).join('/')}" is a list: "${seg}" is not a usable index`,
        );
      }
      path.push(index);
      if (index === current.items.length) return { path: [...path, ...segments.slice(i + 1)], exists: false };
      node = current.items[index];
    } else if (node === null || node === undefined || (isScalar(current) && current.value === null)) {
      return { path: [...path, ...segments.slice(i)], exists: false };
    } else {
      throw new FlatDocError(`"${segments.slice(0, i).join('/')}" holds a value, so "${key}" cannot exist`);
    }
  }
  const last = isAlias(node) ? node.resolve(doc) : node;
  if (isMap(last) || isSeq(last)) throw new FlatDocError(`"${key}" is a map or list, not a value`);
  return { path, exists: true };
}

export function setFlatKey(doc: FlatDoc, key: string, value: string): void {
  if (doc.format === 'json') {
    doc.json = setJson(doc.json, key.split('/'), value, key);
    return;
  }
  const yamlDoc = doc.yaml as Document;
  const { path } = resolveYamlPath(yamlDoc, key);
  if (yamlDoc.contents === null || (isScalar(yamlDoc.contents) && yamlDoc.contents.value === null)) {
    yamlDoc.contents = yamlDoc.createNode({}) as Node as Document['contents'];
  }
  try {
    yamlDoc.setIn(path, value);
  } catch (err) {
    throw new FlatDocError(`cannot set "${key}": ${(err as Error).message}`);
  }
}

/** Deletes leaf keys; list items are removed, so later items move up one index. */
export function deleteFlatKeys(doc: FlatDoc, keys: string[]): void {
  // highest list indexes first, so that removing one does not shift the next one to delete
  const ordered = [...keys].sort((a, b) => compareSegmentsDesc(a.split('/'), b.split('/')));
  for (const key of ordered) {
    if (doc.format === 'json') {
      deleteJson(doc.json, key.split('/'));
      continue;
    }
    const yamlDoc = doc.yaml as Document;
    const { path, exists } = resolveYamlPath(yamlDoc, key);
    if (exists) yamlDoc.deleteIn(path);
  }
}

function compareSegmentsDesc(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    const na = Number(a[i]);
    const nb = Number(b[i]);
    if (/^\d+$/.test(a[i]) && /^\d+$/.test(b[i])) return nb - na;
    return a[i] < b[i] ? 1 : -1;
  }
  return b.length - a.length;
}

export function serializeFlatDoc(doc: FlatDoc): string {
  if (doc.format === 'json') return `${JSON.stringify(doc.json ?? {}, null, 2)}\n`;
  return String(doc.yaml);
}

function setJson(root: unknown, segments: string[], value: string, key: string): unknown {
  const top = root === null || root === undefined ? {} : root;
  let node = top as Record<string, unknown> | unknown[];
  if (typeof node !== 'object') throw new FlatDocError(`cannot set "${key}": the top level is a value`);
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    const last = i === segments.length - 1;
    if (Array.isArray(node)) {
      const index = /^(0|[1-9]\d*)$/.test(seg) ? Number(seg) : Number.NaN;
      if (Number.isNaN(index) || index > node.length) {
        throw new FlatDocError(
          `"${segments.slice(0, i).join('/')}" is a list: "${seg}" is not a usable index`,
        );
      }
      if (last) node[index] = value;
      else node = descend(node, index, segments, i, key);
    } else {
      if (last) {
        const existing = node[seg];
        if (existing !== null && typeof existing === 'object') {
          throw new FlatDocError(`"${key}" is a map or list, not a value`);
        }
        node[seg] = value;
      } else node = descend(node, seg, segments, i, key);
    }
  }
  return top;
}

function descend(
  parent: Record<string, unknown> | unknown[],
  at: string | number,
  segments: string[],
  i: number,
  key: string,
): Record<string, unknown> | unknown[] {
  const child = (parent as Record<string | number, unknown>)[at];
  if (child === undefined || child === null) {
    const created: Record<string, unknown> = {};
    (parent as Record<string | number, unknown>)[at] = created;
    return created;
  }
  if (typeof child !== 'object') {
    throw new FlatDocError(`"${segments.slice(0, i + 1).join('/')}" holds a value, so "${key}" cannot exist`);
  }
  return child as Record<string, unknown> | unknown[];
}

function deleteJson(root: unknown, segments: string[]): void {
  let node: unknown = root;
  for (let i = 0; i < segments.length - 1; i++) {
    if (node === null || typeof node !== 'object') return;
    node = (node as Record<string, unknown>)[segments[i]];
  }
  const last = segments[segments.length - 1];
  if (Array.isArray(node)) {
    const index = Number(last);
    if (Number.isInteger(index) && index >= 0 && index < node.length) node.splice(index, 1);
  } else if (node !== null && typeof node === 'object') {
    delete (node as Record<string, unknown>)[last];
  }
}
