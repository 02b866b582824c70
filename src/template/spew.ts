/**
 * consul-template's spew_* functions: go-spew's Sdump and Sprintf with spew's default
 * configuration (one-space indent, capacities shown, methods called), over tend's values.
 * One deliberate difference: spew's default leaves map keys in Go's random order; tend sorts
 * them, so a dump is stable from one render to the next.
 */
import type { FuncSpec } from './exec.js';
import { formatFloat, quote, sprintf } from './fmt.js';
import { capOf } from './sprig-core.js';
import { elemTypeOf, floatValue, GoStruct, goTypeOf, Kind, kindOf, sortedKeys } from './values.js';

function typeName(v: unknown, inIface: boolean): string {
  if (v === null || v === undefined) return 'interface {}';
  void inIface;
  return goTypeOf(v);
}

/** Go prints a real address; tend prints the same stand-in as its fmt (%p). */
const ADDRESS = '0xc000010000';

function dumpValue(v: unknown, depth: number): string {
  const pad = (n: number) => ' '.repeat(n);
  if (v instanceof GoStruct && v.typeName.startsWith('*')) {
    // spew's dumpPtr: (*T)(address)(pointee), the pointee through String() when it has one.
    const body = v.methods.String ? (v.methods.String.fn() as string) : structBody(v, depth);
    return `(${v.typeName})(${ADDRESS})(${body})`;
  }
  let out = `(${typeName(v, true)}) `;
  const k = kindOf(v);
  if (k === Kind.Slice) {
    const a = v as unknown[];
    const cap = capOf(a);
    if (a.length !== 0 || cap !== 0) {
      out += '(';
      if (a.length !== 0) out += `len=${a.length}`;
      if (cap !== 0) out += (a.length !== 0 ? ' ' : '') + `cap=${cap}`;
      out += ') ';
    }
  } else if (k === Kind.Map) {
    const n = Object.keys(v as object).length;
    if (n !== 0) out += `(len=${n}) `;
  } else if (k === Kind.String) {
    const n = Buffer.byteLength(v as string, 'utf8');
    if (n !== 0) out += `(len=${n}) `;
  }
  switch (k) {
    case Kind.Invalid:
    case Kind.Nil:
      return out + '<nil>';
    case Kind.Bool:
      return out + String(v);
    case Kind.Int:
      return out + String(v);
    case Kind.Float:
      return out + formatFloat(floatValue(v), 'g', -1);
    case Kind.String:
      return out + quote(v as string);
    case Kind.Slice: {
      const a = v as unknown[];
      out += '{\n';
      a.forEach((e, i) => {
        out += pad(depth + 1) + dumpValue(e, depth + 1) + (i < a.length - 1 ? ',\n' : '\n');
      });
      return out + pad(depth) + '}';
    }
    case Kind.Map: {
      const m = v as Record<string, unknown>;
      const keys = sortedKeys(m);
      out += '{\n';
      keys.forEach((key, i) => {
        out += pad(depth + 1) + dumpValue(key, depth + 1) + ': ' + dumpValue(m[key], depth + 1);
        out += i < keys.length - 1 ? ',\n' : '\n';
      });
      return out + pad(depth) + '}';
    }
    case Kind.Struct:
      return out + structBody(v as GoStruct, depth);
    default:
      return out + sprintf('%v', [v]);
  }
}

function structBody(s: GoStruct, depth: number): string {
  const names = Object.keys(s.fields);
  let out = '{\n';
  names.forEach((n, i) => {
    out += ' '.repeat(depth + 1) + n + ': ' + dumpValue(s.fields[n], depth + 1);
    out += i < names.length - 1 ? ',\n' : '\n';
  });
  return out + ' '.repeat(depth) + '}';
}

/** spew.Sdump */
export function sdump(args: unknown[]): string {
  let out = '';
  for (const a of args) {
    if (a === null || a === undefined) out += '(interface {}) <nil>\n';
    else out += dumpValue(a, 0) + '\n';
  }
  return out;
}

/** spew's formatter for the v verb: `#` shows types, `+` (pointer addresses) changes nothing here. */
/**
 * `showType`: spew's formatter prints a `#` type for the top value and for values held in an
 * interface (elements of `[]interface {}`, values of `map[string]interface {}`), not for elements
 * of a concrete type.
 */
function formatV(v: unknown, sharp: boolean, showType: boolean): string {
  const t = sharp && showType ? `(${typeName(v, true)})` : '';
  const inIface = (c: object) => elemTypeOf(c) === 'interface {}';
  switch (kindOf(v)) {
    case Kind.Invalid:
    case Kind.Nil:
      return t + '<nil>';
    case Kind.Bool:
    case Kind.Int:
      return t + String(v);
    case Kind.Float:
      return t + formatFloat(floatValue(v), 'g', -1);
    case Kind.String:
      return t + (v as string);
    case Kind.Slice:
      return t + '[' + (v as unknown[]).map((e) => formatV(e, sharp, inIface(v as object))).join(' ') + ']';
    case Kind.Map: {
      const m = v as Record<string, unknown>;
      return (
        t +
        'map[' +
        sortedKeys(m)
          .map((k) => formatV(k, sharp, false) + ':' + formatV(m[k], sharp, inIface(m)))
          .join(' ') +
        ']'
      );
    }
    case Kind.Struct: {
      const s = v as GoStruct;
      // Pointers print as <*> and then, methods enabled, through String().
      if (s.typeName.startsWith('*') && s.methods.String)
        return (sharp ? `(${s.typeName})` : '<*>') + (s.methods.String.fn() as string);
      return (
        t +
        '{' +
        Object.keys(s.fields)
          .map((n) => formatV(s.fields[n], sharp, false))
          .join(' ') +
        '}'
      );
    }
    default:
      return t + sprintf('%v', [v]);
  }
}

/** spew.Sprintf: every argument goes through spew's formatter; other verbs behave as in fmt. */
export function spewSprintf(format: string, args: unknown[]): string {
  let out = '';
  let argi = 0;
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c !== '%') {
      out += c;
      continue;
    }
    const m = /^([-+# 0]*)(\d*)(?:\.(\d*))?(.)/su.exec(format.slice(i + 1));
    if (!m) {
      out += '%!(NOVERB)';
      break;
    }
    i += m[0].length;
    const verb = m[4];
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const a = args[argi++];
    if (verb === 'T') {
      // fmt answers %T itself, about the formatter spew wraps every argument in.
      out += sprintf('%' + m[1] + m[2] + 's', ['*spew.formatState']);
    } else if (verb === 'v') {
      const s = formatV(a, m[1].includes('#'), true);
      // spew's formatter ignores width and precision for v.
      out += s;
    } else out += sprintf('%' + m[1] + m[2] + (m[3] !== undefined ? '.' + m[3] : '') + verb, [a]);
  }
  if (argi < args.length) {
    out +=
      '%!(EXTRA ' +
      args
        .slice(argi)
        .map((a) => `*spew.formatState=${formatV(a, false, true)}`)
        .join(', ') +
      ')';
  }
  return out;
}

export const SPEW_FUNC_NAMES = ['spew_dump', 'spew_printf', 'spew_sdump', 'spew_sprintf'] as const;

/**
 * The spew functions. spew_dump and spew_printf print on consul-template's stdout and render as
 * nothing; tend hands their text to `print` (default: tend's stderr, so its stdout lines stay
 * parseable).
 */
export function spewFuncs(
  print: (s: string) => void = (s) => process.stderr.write(s),
): Map<string, FuncSpec> {
  const f = new Map<string, FuncSpec>();
  f.set('spew_sdump', { params: [], variadic: 'any', fn: (...a: unknown[]) => sdump(a) });
  f.set('spew_sprintf', {
    params: ['string'],
    variadic: 'any',
    fn: (fmt: string, ...a: unknown[]) => spewSprintf(fmt, a),
  });
  f.set('spew_dump', {
    params: [],
    variadic: 'any',
    fn: (...a: unknown[]) => {
      print(sdump(a));
      return '';
    },
  });
  f.set('spew_printf', {
    params: ['string'],
    variadic: 'any',
    fn: (fmt: string, ...a: unknown[]) => {
      print(spewSprintf(fmt, a));
      return '';
    },
  });
  return f;
}
