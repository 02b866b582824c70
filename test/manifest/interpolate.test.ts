// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in plain strings is the manifest syntax under test
/** The interpolation rules on their own (compose's), away from YAML. */
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { interpolate } from '../../src/manifest/interpolate.js';

const env = { SET: 'v', EMPTY: '' };
const value = (s: string) => interpolate(s, env).value;

test.each([
  ['${SET}', 'v'],
  ['${EMPTY}', ''],
  ['${SET:-d}', 'v'],
  ['${EMPTY:-d}', 'd'],
  ['${UNSET:-d}', 'd'],
  ['${EMPTY-d}', ''],
  ['${UNSET-d}', 'd'],
  ['${SET:+alt}', 'alt'],
  ['${EMPTY:+alt}', ''],
  ['${EMPTY+alt}', 'alt'],
  ['${UNSET+alt}', ''],
  ['${UNSET:-${SET}}', 'v'],
  ['${UNSET:-a ${UNSET2:-b} c}', 'a b c'],
  ['${UNSET:-}', ''],
  ['$$', '$'],
  ['$${SET}', '${SET}'],
  ['$$$$', '$$'],
  ['cost: $5', 'cost: $5'],
  ['"$TEND_CHECK_FILE"', '"$TEND_CHECK_FILE"'],
  ['end$', 'end$'],
  ['a${SET}b${SET}c', 'avbvc'],
])('%s → %j', (input, expected) => {
  expect(value(input)).toBe(expected);
});

test('unset without a default warns once per use; a default that is not used does not warn', () => {
  expect(interpolate('${A} ${A}', {}).warnings.map((w) => w.raw)).toEqual(['${A}', '${A}']);
  expect(interpolate('${SET:-${NOPE}}', env).warnings).toEqual([]);
  expect(interpolate('${UNSET:-${NOPE}}', env).warnings.map((w) => w.raw)).toEqual(['${NOPE}']);
});

test('errors', () => {
  const errors = (s: string) => interpolate(s, env).errors.map((e) => e.message);
  expect(errors('${}')).toEqual(['invalid interpolation "${}": expected a variable name after "${"']);
  expect(errors('${1X}')).toEqual(['invalid interpolation "${1X}": expected a variable name after "${"']);
  expect(errors('${A B}')).toEqual([
    'invalid interpolation "${A B}": unexpected " "; expected "}", ":-", "-", ":?", "?", ":+" or "+" after the name',
  ]);
  expect(errors('${A:-x')).toEqual(['invalid interpolation "${A:-x": missing "}"']);
  expect(errors('${UNSET:?give it}')).toEqual(['variable "UNSET" is required: give it']);
  expect(errors('${EMPTY:?}')).toEqual(['variable "EMPTY" is required: is not set or empty']);
  expect(errors('${EMPTY?}')).toEqual([]);
  expect(errors('${UNSET?}')).toEqual(['variable "UNSET" is required: is not set']);
});

test('text without ${ or $$ comes back unchanged, and nothing ever throws', () => {
  fc.assert(
    fc.property(fc.string(), (s) => {
      const r = interpolate(s, env);
      if (!s.includes('${') && !s.includes('$$')) expect(r.value).toBe(s);
    }),
  );
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom('$', '{', '}', ':', '-', '?', '+', 'SET', 'EMPTY', 'X', ' '), {
        maxLength: 16,
      }),
      (parts) => {
        interpolate(parts.join(''), env);
      },
    ),
  );
});
