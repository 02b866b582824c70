import { createContext, Script } from 'node:vm';

/**
 * Go's regexp (RE2) runs in linear time; a JS RegExp backtracks, and a pattern like `(a*)*b` on a 40-character
 * string would block tend's event loop — supervisor included — for ever. Matching runs under a vm timeout,
 * which V8 can interrupt mid-match. Used by the template functions on KV values and by log-line readiness.
 */
export const REGEXP_BUDGET_MS = 1000;

/** Thrown when a match ran out of its budget; the message says which pattern and what to do. */
export class RegexpBudgetError extends Error {}

const cx = createContext({ re: null, s: '', fn: null, out: null });
const replaceScript = new Script('out = s.replace(re, fn)');
const testScript = new Script('out = re.test(s)');

function run<T>(script: Script, re: RegExp, s: string, fn: unknown, budgetMs: number): T {
  Object.assign(cx, { re, s, fn, out: null });
  try {
    script.runInContext(cx, { timeout: budgetMs });
    return cx.out as T;
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      throw new RegexpBudgetError(
        `regexp ${JSON.stringify(re.source)} took over ${budgetMs}ms on a ${s.length}-character string ` +
          '(it backtracks; RE2, which Go and consul-template use, would not): simplify the pattern',
      );
    }
    throw e;
  } finally {
    Object.assign(cx, { re: null, s: '', fn: null, out: null });
  }
}

/** re.test(s), failing with RegexpBudgetError past budgetMs. */
export function boundedTest(re: RegExp, s: string, budgetMs = REGEXP_BUDGET_MS): boolean {
  return run<boolean>(testScript, re, s, null, budgetMs);
}

/** s.replace(re, fn), failing with RegexpBudgetError past budgetMs. */
export function boundedReplace(
  re: RegExp,
  s: string,
  fn: (match: string, ...rest: unknown[]) => string,
  budgetMs = REGEXP_BUDGET_MS,
): string {
  return run<string>(replaceScript, re, s, fn, budgetMs);
}
