/**
 * Encoders behind toJSON, toJSONPretty, toYAML and toTOML, written to match what Go's
 * encoding/json, gopkg.in/yaml.v2 and BurntSushi/toml print for template values.
 */
import { stringify as yamlStringify } from 'yaml';
import {
  compareGoStrings,
  type GoChan,
  GoFloat,
  GoInt,
  GoStruct,
  intValue,
  Kind,
  keyTypeOf,
  kindOf,
  sortedKeys,
} from './values.js';

function jsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 0x22:
        out += '\\"';
        continue;
      case 0x5c:
        out += '\\\\';
        continue;
      case 0x0a:
        out += '\\n';
        continue;
      case 0x0d:
        out += '\\r';
        continue;
      case 0x09:
        out += '\\t';
        continue;
      case 0x3c:
        out += '\\u003c';
        continue;
      case 0x3e:
        out += '\\u003e';
        continue;
      case 0x26:
        out += '\\u0026';
        continue;
      case 0x2028:
        out += '\\u2028';
        continue;
      case 0x2029:
        out += '\\u2029';
        continue;
    }
    if (c < 0x20) out += '\\u00' + c.toString(16).padStart(2, '0');
    else if (c >= 0xd800 && c <= 0xdfff) {
      const lo = s.charCodeAt(i + 1);
      if (c <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff) {
        out += s[i] + s[i + 1];
        i++;
      } else out += '\\ufffd';
    } else out += s[i];
  }
  return out + '"';
}

function jsonNumber(v: unknown, path: string): string {
  if (typeof v === 'bigint' || v instanceof GoInt) return v.toString();
  const n = v instanceof GoFloat ? v.value : (v as number);
  if (!Number.isFinite(n))
    throw new Error(`json: unsupported value: ${n === Infinity ? '+Inf' : String(n)}${path}`);
  return String(n);
}

/** encoding/json Marshal / MarshalIndent(v, "", indent). */
export function toJSON(v: unknown, indent = ''): string {
  const enc = (x: unknown, cur: string): string => {
    switch (kindOf(x)) {
      case Kind.Invalid:
      case Kind.Nil:
        return 'null';
      case Kind.Bool:
        return x ? 'true' : 'false';
      case Kind.Int:
      case Kind.Float:
        return jsonNumber(x, '');
      case Kind.String:
        return jsonString(x as string);
      case Kind.Slice: {
        const a = x as unknown[];
        if (a.length === 0) return '[]';
        if (!indent) return '[' + a.map((e) => enc(e, cur)).join(',') + ']';
        const inner = cur + indent;
        return '[\n' + a.map((e) => inner + enc(e, inner)).join(',\n') + '\n' + cur + ']';
      }
      case Kind.Map:
      case Kind.Struct: {
        const fields = x instanceof GoStruct ? x.fields : (x as Record<string, unknown>);
        // encoding/json sorts map keys as the strings it writes, ints included ("10" before "9").
        const keys =
          x instanceof GoStruct
            ? Object.keys(fields)
            : keyTypeOf(fields) === 'int'
              ? Object.keys(fields).sort(compareGoStrings)
              : sortedKeys(fields);
        if (keys.length === 0) return '{}';
        const sep = indent ? ': ' : ':';
        if (!indent) return '{' + keys.map((k) => jsonString(k) + sep + enc(fields[k], cur)).join(',') + '}';
        const inner = cur + indent;
        return (
          '{\n' +
          keys.map((k) => inner + jsonString(k) + sep + enc(fields[k], inner)).join(',\n') +
          '\n' +
          cur +
          '}'
        );
      }
      case Kind.Chan:
        throw new Error(`json: unsupported type: <-chan ${(x as GoChan).elemType}`);
      case Kind.Func:
        throw new Error('json: unsupported type: func()');
      default:
        return 'null';
    }
  };
  return enc(v, '');
}

/** A plain JS copy of a template value, for the YAML library and for TOML. */
export function toPlain(v: unknown): unknown {
  switch (kindOf(v)) {
    case Kind.Invalid:
    case Kind.Nil:
      return null;
    case Kind.Float:
      return v instanceof GoFloat ? v.value : v;
    case Kind.Int:
      return intValue(v);
    case Kind.Slice:
      return (v as unknown[]).map(toPlain);
    case Kind.Map: {
      const m = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const k of sortedKeys(m)) out[k] = toPlain(m[k]);
      return out;
    }
    case Kind.Struct: {
      const s = v as GoStruct;
      // yaml.v2 lower-cases struct field names.
      const out: Record<string, unknown> = {};
      for (const [k, e] of Object.entries(s.fields)) out[k.toLowerCase()] = toPlain(e);
      return out;
    }
    default:
      return v;
  }
}

/** gopkg.in/yaml.v2 Marshal, trimmed as consul-template trims it. */
export function toYAML(v: unknown): string {
  const plain = toPlain(v);
  if (plain === null) return 'null';
  const out = yamlStringify(plain, {
    indentSeq: false,
    lineWidth: 0,
    defaultStringType: 'PLAIN',
    defaultKeyType: 'PLAIN',
    nullStr: 'null',
  });
  return out.trim();
}

function tomlKey(k: string): string {
  return /^[A-Za-z0-9_-]+$/.test(k) ? k : tomlString(k);
}

function tomlString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || c === 0x7f) out += '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

function tomlValue(v: unknown): string {
  switch (kindOf(v)) {
    case Kind.Bool:
      return v ? 'true' : 'false';
    case Kind.Int:
      return String(v);
    case Kind.Float: {
      const n = v instanceof GoFloat ? v.value : (v as number);
      if (Number.isNaN(n)) return 'nan';
      if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
      const s = String(n);
      return /[.eE]/.test(s) ? s.replace('e+', 'e') : s + '.0';
    }
    case Kind.String:
      return tomlString(v as string);
    case Kind.Slice:
      return '[' + (v as unknown[]).map(tomlValue).join(', ') + ']';
    case Kind.Map: {
      const m = v as Record<string, unknown>;
      return (
        '{' +
        sortedKeys(m)
          .map((k) => `${tomlKey(k)} = ${tomlValue(m[k])}`)
          .join(', ') +
        '}'
      );
    }
    default:
      throw new Error(`toml: cannot encode a value of type ${kindOf(v) === Kind.Nil ? '<nil>' : typeof v}`);
  }
}

function isTable(v: unknown): boolean {
  return kindOf(v) === Kind.Map || kindOf(v) === Kind.Struct;
}

function isTableArray(v: unknown): boolean {
  return Array.isArray(v) && v.length > 0 && v.every(isTable);
}

/** BurntSushi/toml's Encoder, for the maps templates hand it: values first, then tables. */
export function toTOML(v: unknown): string {
  const plain = toPlain(v);
  if (kindOf(plain) !== Kind.Map) throw new Error('toml: top-level values must be Go maps or structs');
  const lines: string[] = [];
  const table = (m: Record<string, unknown>, path: string[], indent: string): void => {
    const keys = Object.keys(m).sort();
    for (const k of keys) {
      const e = m[k];
      if (e === null || e === undefined || isTable(e) || isTableArray(e)) continue;
      lines.push(`${indent}${tomlKey(k)} = ${tomlValue(e)}`);
    }
    for (const k of keys) {
      const e = m[k];
      const p = [...path, tomlKey(k)];
      if (isTable(e)) {
        if (lines.length > 0) lines.push('');
        lines.push(`${indent}[${p.join('.')}]`);
        table(e as Record<string, unknown>, p, indent + '  ');
      } else if (isTableArray(e)) {
        for (const item of e as Record<string, unknown>[]) {
          if (lines.length > 0) lines.push('');
          lines.push(`${indent}[[${p.join('.')}]]`);
          table(item, p, indent + '  ');
        }
      }
    }
  };
  table(plain as Record<string, unknown>, [], '');
  return lines.join('\n').trim();
}
