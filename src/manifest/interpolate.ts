/**
 * `${VAR}` interpolation with docker-compose's rules, so manifests read the way compose files do:
 *   ${VAR}          value, or empty (with a warning) when unset
 *   ${VAR:-word}    word when VAR is unset or empty        ${VAR-word}  word when VAR is unset
 *   ${VAR:?msg}     error when VAR is unset or empty       ${VAR?msg}   error when VAR is unset
 *   ${VAR:+word}    word when VAR is set and non-empty     ${VAR+word}  word when VAR is set
 *   $$              a literal `$`
 * A `$` followed by anything else stays as it is, so shell code such as `"$TEND_CHECK_FILE"` in a command
 * needs no escaping. Words may nest further `${...}`, evaluated only when used.
 */

export interface InterpolationNote {
  /** the expression as written, e.g. `${PORT:-8080}`, to find it in the source */
  raw: string;
  /** offset of the expression in the input string */
  index: number;
  message: string;
}

export interface Interpolated {
  value: string;
  /** variables that were unset and had no default: the value used is empty */
  warnings: InterpolationNote[];
  /** malformed expressions and `${VAR:?}` failures */
  errors: InterpolationNote[];
}

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const OPERATOR = /:-|-|:\?|\?|:\+|\+/y;

export function interpolate(input: string, env: NodeJS.ProcessEnv): Interpolated {
  const out: Interpolated = { value: '', warnings: [], errors: [] };
  if (!input.includes('$')) {
    out.value = input;
    return out;
  }
  const [value] = scan(input, 0, env, out, false);
  out.value = value;
  return out;
}

/** Reads text from `i` until the end (or an unmatched `}` when `inWord`); returns the text and where it stopped. */
function scan(
  s: string,
  i: number,
  env: NodeJS.ProcessEnv,
  out: Interpolated,
  inWord: boolean,
): [string, number] {
  let text = '';
  while (i < s.length) {
    const c = s[i];
    if (inWord && c === '}') return [text, i];
    if (c !== '$') {
      text += c;
      i++;
    } else if (s[i + 1] === '$') {
      text += '$';
      i += 2;
    } else if (s[i + 1] === '{') {
      const [v, end] = expression(s, i, env, out);
      text += v;
      i = end;
    } else {
      text += '$';
      i++;
    }
  }
  return [text, i];
}

/** `s[start]` is the `$` of `${`; returns the value and the offset just past the closing `}`. */
function expression(s: string, start: number, env: NodeJS.ProcessEnv, out: Interpolated): [string, number] {
  NAME.lastIndex = start + 2;
  const name = NAME.exec(s)?.[0];
  if (name === undefined) {
    const close = s.indexOf('}', start);
    const end = close < 0 ? s.length : close + 1;
    const raw = s.slice(start, end);
    out.errors.push({
      raw,
      index: start,
      message: `invalid interpolation "${raw}": expected a variable name after "\${"`,
    });
    return ['', end];
  }
  const i = start + 2 + name.length;
  if (s[i] === '}') {
    const v = env[name];
    if (v === undefined) {
      out.warnings.push({
        raw: s.slice(start, i + 1),
        index: start,
        message: `variable "${name}" is not set; using an empty string (write \${${name}:-default} to give a default)`,
      });
    }
    return [v ?? '', i + 1];
  }
  OPERATOR.lastIndex = i;
  const op = OPERATOR.exec(s)?.[0];
  if (op === undefined) {
    const close = s.indexOf('}', i);
    const end = close < 0 ? s.length : close + 1;
    const raw = s.slice(start, end);
    const what =
      i < s.length
        ? `unexpected "${s[i]}"; expected "}", ":-", "-", ":?", "?", ":+" or "+" after the name`
        : 'missing "}"';
    out.errors.push({ raw, index: start, message: `invalid interpolation "${raw}": ${what}` });
    return ['', end];
  }
  // The word is scanned into its own collector: its warnings count only if the word is used.
  const inner: Interpolated = { value: '', warnings: [], errors: [] };
  const [word, close] = scan(s, i + op.length, env, inner, true);
  const raw = s.slice(start, close + 1);
  out.errors.push(...inner.errors);
  if (close >= s.length) {
    out.errors.push({ raw, index: start, message: `invalid interpolation "${raw}": missing "}"` });
    return ['', s.length];
  }
  const v = env[name];
  const set = v !== undefined;
  const nonEmpty = set && v !== '';
  const useWord = () => {
    out.warnings.push(...inner.warnings);
    return word;
  };
  switch (op) {
    case ':-':
      return [nonEmpty ? v : useWord(), close + 1];
    case '-':
      return [set ? v : useWord(), close + 1];
    case ':+':
      return [nonEmpty ? useWord() : '', close + 1];
    case '+':
      return [set ? useWord() : '', close + 1];
    default: {
      const ok = op === ':?' ? nonEmpty : set;
      if (ok) return [v ?? '', close + 1];
      out.warnings.push(...inner.warnings);
      const why = word !== '' ? word : op === ':?' ? 'is not set or empty' : 'is not set';
      out.errors.push({ raw, index: start, message: `variable "${name}" is required: ${why}` });
      return ['', close + 1];
    }
  }
}
