/**
 * consul-template's sprig functions. consul-template 0.42 registers every function of sprig v3's
 * TxtFuncMap under `sprig_` + its name (template/template.go, funcMap). tend implements the
 * repeatable ones with sprig v3.2.3's semantics; the ones that read the clock, the environment,
 * the network or randomness are refused with an error that says why (a tend render must give the
 * same bytes for the same data).
 */
import type { FuncSpec } from './exec.js';
import { defineCrypto } from './sprig-crypto.js';
import { defineLists } from './sprig-lists.js';
import { defineMath } from './sprig-math.js';
import { defineStrings } from './sprig-strings.js';

/** Every name in sprig v3.2.3's function map (functions.go genericMap), without the prefix. */
export const SPRIG_NAMES = [
  'hello', 'ago', 'date', 'date_in_zone', 'date_modify', 'dateInZone', 'dateModify', 'duration',
  'durationRound', 'htmlDate', 'htmlDateInZone', 'must_date_modify', 'mustDateModify', 'mustToDate', 'now',
  'toDate', 'unixEpoch', 'abbrev', 'abbrevboth', 'trunc', 'trim', 'upper', 'lower', 'title', 'untitle',
  'substr', 'repeat', 'trimall', 'trimAll', 'trimSuffix', 'trimPrefix', 'nospace', 'initials',
  'randAlphaNum', 'randAlpha', 'randAscii', 'randNumeric', 'swapcase', 'shuffle', 'snakecase', 'camelcase',
  'kebabcase', 'wrap', 'wrapWith', 'contains', 'hasPrefix', 'hasSuffix', 'quote', 'squote', 'cat', 'indent',
  'nindent', 'replace', 'plural', 'sha1sum', 'sha256sum', 'adler32sum', 'toString', 'atoi', 'int64', 'int',
  'float64', 'seq', 'toDecimal', 'split', 'splitList', 'splitn', 'toStrings', 'until', 'untilStep', 'add1',
  'add', 'sub', 'div', 'mod', 'mul', 'randInt', 'add1f', 'addf', 'subf', 'divf', 'mulf', 'biggest', 'max',
  'min', 'maxf', 'minf', 'ceil', 'floor', 'round', 'join', 'sortAlpha', 'default', 'empty', 'coalesce', 'all',
  'any', 'compact', 'mustCompact', 'fromJson', 'toJson', 'toPrettyJson', 'toRawJson', 'mustFromJson',
  'mustToJson', 'mustToPrettyJson', 'mustToRawJson', 'ternary', 'deepCopy', 'mustDeepCopy', 'typeOf',
  'typeIs', 'typeIsLike', 'kindOf', 'kindIs', 'deepEqual', 'env', 'expandenv', 'getHostByName', 'base', 'dir',
  'clean', 'ext', 'isAbs', 'osBase', 'osClean', 'osDir', 'osExt', 'osIsAbs', 'b64enc', 'b64dec', 'b32enc',
  'b32dec', 'tuple', 'list', 'dict', 'get', 'set', 'unset', 'hasKey', 'pluck', 'keys', 'pick', 'omit', 'merge',
  'mergeOverwrite', 'mustMerge', 'mustMergeOverwrite', 'values', 'append', 'push', 'mustAppend', 'mustPush',
  'prepend', 'mustPrepend', 'first', 'mustFirst', 'rest', 'mustRest', 'last', 'mustLast', 'initial',
  'mustInitial', 'reverse', 'mustReverse', 'uniq', 'mustUniq', 'without', 'mustWithout', 'has', 'mustHas',
  'slice', 'mustSlice', 'concat', 'dig', 'chunk', 'mustChunk', 'bcrypt', 'htpasswd', 'genPrivateKey',
  'derivePassword', 'buildCustomCert', 'genCA', 'genCAWithKey', 'genSelfSignedCert', 'genSelfSignedCertWithKey',
  'genSignedCert', 'genSignedCertWithKey', 'encryptAES', 'decryptAES', 'randBytes', 'uuidv4', 'semver',
  'semverCompare', 'fail', 'regexMatch', 'mustRegexMatch', 'regexFindAll', 'mustRegexFindAll', 'regexFind',
  'mustRegexFind', 'regexReplaceAll', 'mustRegexReplaceAll', 'regexReplaceAllLiteral',
  'mustRegexReplaceAllLiteral', 'regexSplit', 'mustRegexSplit', 'regexQuoteMeta', 'urlParse', 'urlJoin',
] as const;

/** Refused by tend, and why. sprig's own HermeticTxtFuncMap drops the clock, random, env and network ones. */
export const SPRIG_REFUSED: Record<string, string> = {
  ...Object.fromEntries(
    ['ago', 'date', 'date_in_zone', 'date_modify', 'dateInZone', 'dateModify', 'htmlDate', 'htmlDateInZone', 'now']
      .map((n) => [n, 'it reads the clock']),
  ),
  ...Object.fromEntries(
    ['must_date_modify', 'mustDateModify', 'mustToDate', 'toDate', 'unixEpoch'].map((n) => [
      n,
      'it works on Go time values, which tend templates do not have',
    ]),
  ),
  ...Object.fromEntries(
    [
      'randAlphaNum', 'randAlpha', 'randAscii', 'randNumeric', 'randBytes', 'randInt', 'uuidv4', 'shuffle',
      'bcrypt', 'htpasswd', 'genPrivateKey', 'buildCustomCert', 'genCA', 'genCAWithKey', 'genSelfSignedCert',
      'genSelfSignedCertWithKey', 'genSignedCert', 'genSignedCertWithKey', 'encryptAES',
    ].map((n) => [n, 'its result is random, so every render would differ']),
  ),
  env: 'it reads the environment: use tend\'s env function, which tracks the variable',
  expandenv: 'it reads the environment: use tend\'s env function, which tracks the variable',
  getHostByName: 'it queries DNS during the render',
  semver: 'it is not implemented yet',
  semverCompare: 'it is not implemented yet',
  derivePassword: 'it is not implemented yet',
};

export const SPRIG_FUNC_NAMES = SPRIG_NAMES.map((n) => `sprig_${n}`);

/** The sprig functions under consul-template's names (`sprig_` + sprig's name). */
export function sprigFuncs(): Map<string, FuncSpec> {
  const f = new Map<string, FuncSpec>();
  const def = (name: string, params: string[], fn: FuncSpec['fn'], variadic?: string) =>
    f.set('sprig_' + name, variadic === undefined ? { params, fn } : { params, variadic, fn });
  def('hello', [], () => 'Hello!');
  defineStrings(def);
  defineMath(def);
  defineLists(def);
  defineCrypto(def);
  for (const [name, why] of Object.entries(SPRIG_REFUSED)) {
    def(name, [], () => {
      throw new Error(`sprig_${name} is not available in tend: ${why} (docs/templates-sprig.md)`);
    }, 'any');
  }
  return f;
}
