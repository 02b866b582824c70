/**
 * Differential tests: every case in test/fixtures/template/go-cases.json was run through Go's
 * own text/template by tools/gotemplate (see its README). tend must produce the same bytes, or
 * the same error message (which carries the error's kind and position).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { execute, parse, parseJSONData, TemplateError } from '../../src/template/index.js';

interface GoCase {
  name: string;
  template: string;
  data: string;
  missingkey?: 'default' | 'zero' | 'error' | 'invalid';
  left?: string;
  right?: string;
  exec?: string;
  output?: string;
  error?: string;
  phase?: 'parse' | 'exec';
}

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/template/go-cases.json', import.meta.url), 'utf8'),
) as { go: string; cases: GoCase[] };

/** Cases where tend knowingly differs from Go, and why. */
const KNOWN_DIFFERENCES: Record<string, string> = {
  'slice/oob':
    "Go's JSON decoder leaves spare capacity in slices, so slicing past len succeeds in Go; JS arrays have no capacity",
};

function run(c: GoCase): { output?: string; error?: string; kind?: string } {
  try {
    const missingKey = c.missingkey === 'invalid' ? 'default' : c.missingkey;
    const tpl = parse(c.name, c.template, { leftDelim: c.left, rightDelim: c.right, missingKey });
    const data = c.data === '' ? undefined : parseJSONData(c.data);
    return { output: execute(tpl, data, { name: c.exec }) };
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    return { error: e.message, kind: e.kind };
  }
}

const groups = new Map<string, GoCase[]>();
for (const c of fixture.cases) {
  const g = c.name.split('/')[0];
  if (!groups.has(g)) groups.set(g, []);
  groups.get(g)!.push(c);
}

describe(`Go ${fixture.go} text/template fixtures (${fixture.cases.length} cases)`, () => {
  it('has at least 400 cases', () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(400);
  });
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
          }
        });
      }
    });
  }
});
