#!/usr/bin/env node
/**
 * Writes docs/reference/manifest.md from the JSON Schema of tend.yaml (`tend schema`), so that the reference
 * never drifts from what the loader accepts. test/export/docs.test.ts fails when the committed page is stale.
 *
 *   npm run build && node scripts/manifest-reference.mjs [path/to/dist]
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REFERENCE_PATH = 'docs/reference/manifest.md';

const INTERPOLATION = '\\$\\{';

/** The variants of a node, anyOf/oneOf flattened, without the "a string with ${VAR}" alternatives. */
function variants(node) {
  const list = node.anyOf ?? node.oneOf;
  if (!list) return [node];
  return list.flatMap(variants).filter((v) => v.pattern !== INTERPOLATION);
}

function isScalarList(v) {
  if (v.type !== 'array' || !v.items) return false;
  const items = variants(v.items);
  return items.every((i) => ['string', 'number', 'boolean'].includes(i.type));
}

function isObjectWithProperties(v) {
  return v.type === 'object' && v.properties && Object.keys(v.properties).length > 0;
}

/** A short human name for one variant. */
function typeName(v) {
  if (v.const === 0) return undefined;
  if (v.enum) {
    if (v.enum.includes('SIGTERM')) return 'signal name (`SIGTERM` or `TERM`)';
    if (v.enum.includes('yes') || (v.enum.length === 2 && v.enum[0] === 0)) return undefined;
    return `one of ${v.enum.map((e) => `\`${e}\``).join(', ')}`;
  }
  if (v.type === 'string' && v.pattern) {
    if (v.pattern.includes('ms|s|m|h')) return 'duration (`100ms`, `10s`, `5m`, `1h`)';
    if (v.pattern.includes('[kKmMgGtT]')) return 'size (`10MB`, `1GB`)';
    if (v.pattern.includes('[0-7]{3,4}')) return 'file mode (`"0640"`)';
    if (v.pattern.includes('yearly')) return 'cron expression (5 or 6 fields, or `@daily`…)';
  }
  if (v.type === 'string') return v.format === 'uri' ? 'URL' : 'string';
  if (v.type === 'integer') {
    const range = v.minimum !== undefined && v.maximum !== undefined ? ` ${v.minimum}–${v.maximum}` : '';
    return `integer${range}`;
  }
  if (v.type === 'number') return 'number';
  if (v.type === 'boolean') return 'boolean';
  if (v.type === 'null') return undefined;
  if (v.type === 'array') {
    if (isScalarList(v)) return 'list of strings';
    const items = variants(v.items ?? {});
    if (items.some(isObjectWithProperties)) return 'list of maps (below)';
    const names = [...new Set(items.map(typeName).filter(Boolean))];
    return `list of ${names.join(' or ') || 'values'}`;
  }
  if (v.type === 'object') {
    if (isObjectWithProperties(v)) return 'map (below)';
    if (v.additionalProperties && typeof v.additionalProperties === 'object') {
      const inner = variants(v.additionalProperties);
      if (inner.some(isObjectWithProperties)) return 'map of name → map (below)';
      if (inner.every((i) => ['string', 'number', 'boolean', 'null'].includes(i.type)))
        return 'map of strings';
    }
    return 'map';
  }
  return undefined;
}

function describeType(node) {
  const vs = variants(node);
  const names = [...new Set(vs.map(typeName).filter(Boolean))];
  const string = vs.find((v) => v.type === 'string' && !v.pattern);
  const list = vs.find((v) => v.type === 'array' && isScalarList(v) && v.minItems);
  if (string && list) {
    const rest = vs.filter((v) => v !== string && v !== list);
    if (rest.length === 0) return 'command: string (run by `sh -c`) or list (argv)';
    const others = [...new Set(rest.map(typeName).filter(Boolean))];
    return ['command', ...others].join(', or ');
  }
  return names.join(', or ') || 'any';
}

const cell = (text) => String(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');

function defaultText(node) {
  if (!('default' in node)) return '';
  const d = node.default;
  if (typeof d === 'string') return `\`${d}\``;
  return `\`${JSON.stringify(d)}\``;
}

/** Every object with properties under node, as [path, object, label] in document order. */
function sections(node, path, out, label) {
  for (const v of variants(node)) {
    if (isObjectWithProperties(v)) {
      const tag =
        label ?? (variants(node).filter(isObjectWithProperties).length > 1 ? v.required?.[0] : undefined);
      out.push({ path, node: v, tag });
      for (const [key, child] of Object.entries(v.properties)) sections(child, `${path}.${key}`, out);
    } else if (v.type === 'array' && v.items) {
      sections(v.items, `${path}[]`, out);
    } else if (v.type === 'object' && v.additionalProperties && typeof v.additionalProperties === 'object') {
      sections(v.additionalProperties, `${path}.<name>`, out);
    }
  }
  return out;
}

export function renderReference(schema) {
  const lines = [
    '# tend.yaml reference',
    '',
    '<!-- Generated from the JSON Schema (`tend schema`) by scripts/manifest-reference.mjs; do not edit. -->',
    '',
    'Every key of the manifest, as `tend check` and `tend up` accept it. The same schema is printed by',
    '`tend schema`, for editors that validate YAML against a JSON Schema.',
    '',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: documents the manifest's own ${VAR} syntax
    '- Any value may use `${VAR}` or `${VAR:-default}` to read the environment (`$$` is a literal `$`);',
    '  the result is checked once interpolated.',
    '- Durations are `100ms`, `10s`, `5m`, `1h` (or `0`); sizes are `10MB`, `1GB`.',
    '- Relative paths resolve against the manifest’s folder.',
    '- Keys starting with `x-` are ignored anywhere, for your own anchors and notes.',
    '- Booleans also accept `yes`/`no`, `on`/`off`, `1`/`0`.',
    '',
  ];
  // Sections with the same keys one after the other (the five stages) share one table.
  const groups = [];
  for (const { path, node, tag } of sections(schema, '', [])) {
    const required = new Set(node.required ?? []);
    const rows = Object.entries(node.properties).map(([key, child]) => {
      const name = required.has(key) ? `\`${key}\` (required)` : `\`${key}\``;
      return `| ${name} | ${cell(describeType(child))} | ${cell(defaultText(child))} | ${cell(child.description ?? '')} |`;
    });
    const title = path === '' ? 'Top level' : `\`${path.slice(1)}\`${tag ? ` (with \`${tag}\`)` : ''}`;
    const last = groups[groups.length - 1];
    if (last && path !== '' && last.rows.join('\n') === rows.join('\n')) last.titles.push(title);
    else groups.push({ titles: [title], rows, description: path === '' ? undefined : node.description });
  }
  for (const g of groups) {
    lines.push(`## ${g.titles.join(', ')}`, '');
    if (g.description) lines.push(`${g.description}.`.replace(/\.\.$/, '.'), '');
    lines.push('| key | type | default | description |', '|---|---|---|---|', ...g.rows, '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

const isMain = process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url;
if (isMain) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const dist = resolve(process.argv[2] ?? join(root, 'dist'));
  const { jsonSchema } = await import(pathToFileURL(join(dist, 'manifest', 'index.js')).href);
  writeFileSync(join(root, REFERENCE_PATH), renderReference(jsonSchema()));
  process.stdout.write(`wrote ${REFERENCE_PATH}\n`);
}
