/**
 * Differential tests of consul-template's sprig_* and spew_* functions: every case in
 * test/fixtures/template/sprig-cases.json was rendered by Go with sprig v3.2.3 and go-spew under
 * consul-template's names (`go run -tags sprig ./tools/gotemplate sprig`, see its README). tend
 * must give the same bytes, the same error, and print the same text for spew_dump/spew_printf.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { memorySource, parseJSONData, renderWithSource, TemplateError } from '../../src/template/index.js';
import { SPEW_FUNC_NAMES } from '../../src/template/spew.js';
import { SPRIG_FUNC_NAMES, SPRIG_NAMES, SPRIG_REFUSED } from '../../src/template/sprig.js';

interface Case {
  name: string;
  template: string;
  /** Absent when the case uses the fixture's defaultData. */
  data?: string;
  output?: string;
  error?: string;
  phase?: 'parse' | 'exec';
  stdout?: string;
  missingkey?: 'default' | 'zero' | 'error';
}

// SPRIG_FIXTURE points at another generated file (e.g. a larger SPRIG_FUZZ run, see tools/gotemplate).
const fixture = JSON.parse(
  readFileSync(
    process.env.SPRIG_FIXTURE ?? new URL('../fixtures/template/sprig-cases.json', import.meta.url),
    'utf8',
  ),
) as { go: string; cases: Case[]; functions: string[]; defaultData: string };

/** Where tend knowingly differs from Go, and why (docs/templates-sprig.md). */
const KNOWN_DIFFERENCES: Record<string, string> = {};

function run(c: Case): { output?: string; error?: string; kind?: string; stdout?: string } {
  let printed = '';
  try {
    const text = c.data ?? fixture.defaultData;
    const data = text === '' ? undefined : parseJSONData(text);
    const res = renderWithSource(c.template, data, memorySource({}), {
      name: c.name,
      missingKey: c.missingkey ?? 'default',
      debugPrint: (s) => {
        printed += s;
      },
    });
    return { output: res.output, ...(printed ? { stdout: printed } : {}) };
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    return { error: e.message, kind: e.kind };
  }
}

const groups = new Map<string, Case[]>();
for (const c of fixture.cases) {
  const g = c.name.split('/')[0];
  if (!groups.has(g)) groups.set(g, []);
  groups.get(g)!.push(c);
}

describe(`sprig v3.2.3 and go-spew under Go ${fixture.go} (${fixture.cases.length} cases)`, () => {
  for (const [group, cases] of groups) {
    describe(group, () => {
      for (const c of cases) {
        const known = KNOWN_DIFFERENCES[c.name];
        it(`${c.name}${known ? ' (known difference)' : ''}`, () => {
          const got = run(c);
          if (known) {
            expect(got).not.toEqual(c.error !== undefined ? { error: c.error } : { output: c.output });
            return;
          }
          if (c.error !== undefined) {
            expect(got.error).toBe(c.error);
            expect(got.kind).toBe(c.phase === 'parse' ? 'parse' : 'exec');
          } else {
            expect(got.error).toBeUndefined();
            expect(got.output).toBe(c.output);
            expect(got.stdout).toBe(c.stdout);
          }
        });
      }
    });
  }

  it("names exactly the functions of consul-template's map that Go rendered with", () => {
    const ours = [...SPRIG_FUNC_NAMES, ...SPEW_FUNC_NAMES].sort();
    expect(ours).toEqual([...fixture.functions].sort());
  });

  it('every function tend implements is exercised by a fixture', () => {
    const used = new Set(
      fixture.cases.flatMap((c) => [...c.template.matchAll(/sprig_(\w+)/g)].map((m) => m[1])),
    );
    const untested = SPRIG_NAMES.filter(
      (n) => !used.has(n) && !Object.hasOwn(SPRIG_REFUSED, n) && n !== 'hello',
    );
    expect(untested).toEqual([]);
  });

  it('docs/templates-sprig.md names every function', () => {
    const doc = readFileSync(new URL('../../docs/templates-sprig.md', import.meta.url), 'utf8');
    const missing = [...SPRIG_FUNC_NAMES, ...SPEW_FUNC_NAMES].filter((n) => !doc.includes('`' + n));
    expect(missing).toEqual([]);
  });

  it('refuses the functions that are not repeatable, saying why', () => {
    const res = () => renderWithSource('{{ sprig_now }}', {}, memorySource({}), { name: 't' });
    expect(res).toThrow(/sprig_now is not available in tend: it reads the clock/);
  });
});

describe('spew over consul-template objects', () => {
  const src = memorySource({ kv: { 'app/port': '8080' } });

  it('dumps a key pair as spew dumps a pointer to a struct, with a stand-in address', () => {
    const res = renderWithSource('{{ spew_sdump (index (ls "app") 0) }}', {}, src, { name: 't' });
    expect(res.output).toBe(
      '(*dependency.KeyPair)(0xc000010000)({\n' +
        ' Path: (string) (len=8) "app/port",\n' +
        ' Key: (string) (len=4) "port",\n' +
        ' Value: (string) (len=4) "8080",\n' +
        ' Exists: (bool) true,\n' +
        ' CreateIndex: (int) 0,\n' +
        ' ModifyIndex: (int) 0,\n' +
        ' LockIndex: (int) 0,\n' +
        ' Flags: (int) 0,\n' +
        ' Session: (string) ""\n' +
        '})\n',
    );
  });

  it('spew_dump prints beside the render, which gets nothing', () => {
    let printed = '';
    const res = renderWithSource('a{{ spew_dump (key "app/port") }}b', {}, src, {
      name: 't',
      debugPrint: (s) => {
        printed += s;
      },
    });
    expect(res.output).toBe('ab');
    expect(printed).toBe('(string) (len=4) "8080"\n');
  });
});

describe('sprig regular expressions on a backtracking pattern', () => {
  it('fail within the regexp budget instead of freezing tend', () => {
    const res = () =>
      renderWithSource(`{{ sprig_regexMatch "(a*)*b" "${'a'.repeat(40)}" }}`, {}, memorySource({}), {
        name: 't',
      });
    expect(res).toThrow(/took over 1000ms .* simplify the pattern/);
  });
});
