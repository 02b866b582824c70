/**
 * Go regexps (RE2) for go-sockaddr's `name`, `address` and `port` selectors, run as JS RegExps
 * under tend's matching budget (a backtracking pattern cannot freeze the supervisor).
 */
import { boundedTest } from '../bounded-regexp.js';

export interface GoRegexp {
  test(s: string): boolean;
}

/** Compile RE2 syntax; leading (?flags), \A and \z translated. Throws with Go's prefix. */
export function compileGoRegexp(re: string): GoRegexp {
  let src = re;
  let flags = 'u';
  const m = /^\(\?([imsU]+)\)/.exec(src);
  if (m) {
    src = src.slice(m[0].length);
    if (m[1].includes('i')) flags += 'i';
    if (m[1].includes('m')) flags += 'm';
    if (m[1].includes('s')) flags += 's';
  }
  // RE2 spellings JS lacks: \z, \A, (?P<name>…), one-letter classes \pL / \PL.
  src = src
    .replace(/\\z/g, '$(?![\\s\\S])')
    .replace(/\\A/g, '^')
    .replace(/\(\?P</g, '(?<')
    .replace(/\\([pP])([A-Za-z])/g, '\\$1{$2}');
  let r: RegExp;
  try {
    r = new RegExp(src, flags);
  } catch (e) {
    throw new Error(`error parsing regexp: ${(e as Error).message}`);
  }
  return { test: (s: string) => boundedTest(r, s) };
}
