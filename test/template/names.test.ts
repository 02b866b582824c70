/** The list the manifest validates `functions.allow`/`deny` against, without loading the engine. */
import { describe, expect, it } from 'vitest';
import { DISABLED_BY_DEFAULT, templateFunctionNames } from '../../src/template/index.js';
import { FUNCTION_NAMES, DISABLED_BY_DEFAULT as LISTED_DISABLED } from '../../src/template/names.js';

describe('template function names', () => {
  it('the plain list is the function map’s own names (a new function must be added to names.ts)', () => {
    expect([...FUNCTION_NAMES]).toEqual([...templateFunctionNames()]);
  });

  it('the functions off by default are among them, and the engine enforces the same list', () => {
    expect(LISTED_DISABLED).toBe(DISABLED_BY_DEFAULT);
    for (const name of LISTED_DISABLED) expect(FUNCTION_NAMES).toContain(name);
  });
});
