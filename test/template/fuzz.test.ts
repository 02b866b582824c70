/**
 * Random and malformed templates never crash the engine or hang it: parsing and executing
 * either succeed or throw a TemplateError whose message has Go's shape.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { execute, memorySource, parse, renderWithSource, TemplateError } from '../../src/template/index.js';

const tokens = [
  '{{',
  '}}',
  '{{- ',
  ' -}}',
  '{{/*',
  '*/}}',
  ' ',
  '\n',
  '.',
  '.a',
  '.b.c',
  '.l',
  '.m',
  '.n',
  '$',
  '$x',
  '$x :=',
  '$x =',
  '$i, $e :=',
  '|',
  '(',
  ')',
  'if',
  'else',
  'else if',
  'end',
  'range',
  'with',
  'define',
  'template',
  'block',
  'break',
  'continue',
  '"s"',
  '"a"',
  '`raw`',
  "'c'",
  '1',
  '-2',
  '3.5',
  '0x1F',
  '1e3',
  'true',
  'false',
  'nil',
  'and',
  'or',
  'not',
  'len',
  'index',
  'slice',
  'print',
  'printf',
  'println',
  'eq',
  'ne',
  'lt',
  'le',
  'gt',
  'ge',
  'html',
  'js',
  'urlquery',
  'call',
  '"%d %s %v %q %x %5.2f %-3t"',
  'text',
  'é☃',
  ',',
  '=',
  ':=',
  '"\\n"',
  '#',
  '{{end}}',
  '{{else}}',
  '{{if .a}}',
  '{{range .l}}',
  '{{define "t"}}',
  '{{template "t" .}}',
];

const templateArb = fc.array(fc.constantFrom(...tokens), { maxLength: 40 }).map((ts) => ts.join(''));
const data = { a: 1, b: { c: 'x' }, l: [1, 'two', null, [3]], m: { k: 'v', z: 0 }, n: null, s: 'str' };

const parseShape = /^template: fuzz:\d+: /;
const execShape = /^template: (fuzz|t)(:\d+:\d+: executing "[^"]*" at <.*>: |: )/s;

function check(text: string): void {
  let tpl: ReturnType<typeof parse>;
  try {
    tpl = parse('fuzz', text);
  } catch (e) {
    expect(e).toBeInstanceOf(TemplateError);
    expect((e as TemplateError).kind).toBe('parse');
    expect((e as Error).message).toMatch(parseShape);
    return;
  }
  try {
    execute(tpl, data);
  } catch (e) {
    expect(e).toBeInstanceOf(TemplateError);
    expect((e as TemplateError).kind).toBe('exec');
    expect((e as Error).message).toMatch(execShape);
  }
}

describe('fuzz', () => {
  it('random token soups parse and run or fail with Go-style errors', () => {
    fc.assert(fc.property(templateArb, check), { numRuns: 4000, interruptAfterTimeLimit: 8000 });
  });

  it('random strings (any characters) never crash the lexer', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => check(`{{${s}}}`)),
      { numRuns: 3000, interruptAfterTimeLimit: 4000 },
    );
  });

  it('random templates with consul-template functions never crash a render', () => {
    const src = memorySource({ kv: { a: '1', 'b/c': '2' }, env: {} });
    const consulTokens = [
      'key "a"',
      'keyOrDefault "x" "d"',
      'ls "b"',
      'tree "b"',
      'service "web"',
      'toJSON',
      'split ","',
      'join ","',
      'parseJSON',
      'add 1',
      'divide 0',
      'indent 2',
      'toUpper',
    ];
    const arb = fc
      .array(fc.constantFrom(...tokens, ...consulTokens), { maxLength: 30 })
      .map((ts) => ts.join(' '));
    fc.assert(
      fc.property(arb, (text) => {
        try {
          renderWithSource(text, data, src, { name: 't' });
        } catch (e) {
          expect(e).toBeInstanceOf(TemplateError);
        }
      }),
      { numRuns: 2000, interruptAfterTimeLimit: 4000 },
    );
  });
});

describe('malformed templates', () => {
  const cases: [string, string][] = [
    ['{{', 'template: m:1: unclosed action'],
    ['{{.a', 'template: m:1: unclosed action'],
    ['{{if .a}}', 'template: m:1: unexpected EOF'],
    ['{{range}}{{end}}', 'template: m:1: missing value for range'],
    ['{{.a | | .b}}', 'template: m:1: unexpected "|" in command'],
    ['{{nosuch 1}}', 'template: m:1: function "nosuch" not defined'],
    ['{{(1}}', 'template: m:1: unclosed left paren'],
    ['{{"abc', 'template: m:1: unterminated quoted string'],
    ['a\n\n{{end}}', 'template: m:3: unexpected {{end}}'],
    ['{{define "x"}}', 'template: m:1: unexpected EOF'],
  ];
  for (const [text, msg] of cases) {
    it(JSON.stringify(text), () => {
      expect(() => parse('m', text)).toThrow(msg);
    });
  }
  it('wrong argument counts', () => {
    expect(() => execute(parse('m', '{{len}}'), {})).toThrow(
      'template: m:1:2: executing "m" at <len>: wrong number of args for len: want 1 got 0',
    );
    expect(() => execute(parse('m', '{{index}}'), {})).toThrow(
      'wrong number of args for index: want at least 1 got 0',
    );
    expect(() => execute(parse('m', '{{ne 1}}'), {})).toThrow('wrong number of args for ne: want 2 got 1');
  });
  it("deep recursion ends with Go's depth error, not a crash", () => {
    expect(() =>
      execute(parse('m', '{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}'), {}),
    ).toThrow(
      'template: m:1:25: executing "r" at <{{template "r" .}}>: exceeded maximum template depth (100000)',
    );
  });
});
