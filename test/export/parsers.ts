/**
 * The readers of the exported files, transcribed from their sources so that tests check the files against
 * what really reads them:
 * - systemd's EnvironmentFile= parser: parse_env_file_internal() in src/basic/env-file.c (its state machine,
 *   state for state);
 * - docker compose's `.env` parser: compose-go v2's dotenv package (parser.go: extractVarValue,
 *   extractQuotedValue, expandEscapes), with `$$` / `${VAR}` interpolation as its template package does it.
 */

export function parseSystemdEnvFile(text: string): Map<string, string> {
  const NEWLINE = '\n\r';
  const WHITESPACE = ' \t\n\r';
  const COMMENTS = '#;';
  const SHELL_NEED_ESCAPE = '"\\`$';
  type State =
    | 'PRE_KEY'
    | 'KEY'
    | 'PRE_VALUE'
    | 'VALUE'
    | 'VALUE_ESCAPE'
    | 'SINGLE_QUOTE_VALUE'
    | 'DOUBLE_QUOTE_VALUE'
    | 'DOUBLE_QUOTE_VALUE_ESCAPE'
    | 'COMMENT'
    | 'COMMENT_ESCAPE';
  const out = new Map<string, string>();
  let state: State = 'PRE_KEY';
  let key = '';
  let value = '';
  let lastValueWhitespace = -1;
  let lastKeyWhitespace = -1;
  const push = (chompValue: boolean) => {
    let k = key;
    let v = value;
    if (chompValue && lastValueWhitespace >= 0) v = v.slice(0, lastValueWhitespace);
    if (lastKeyWhitespace >= 0) k = k.slice(0, lastKeyWhitespace);
    out.set(k, v);
    key = '';
    value = '';
  };
  for (const c of text) {
    switch (state) {
      case 'PRE_KEY':
        if (COMMENTS.includes(c)) state = 'COMMENT';
        else if (!WHITESPACE.includes(c)) {
          state = 'KEY';
          lastKeyWhitespace = -1;
          key += c;
        }
        break;
      case 'KEY':
        if (NEWLINE.includes(c)) {
          state = 'PRE_KEY';
          key = '';
        } else if (c === '=') {
          state = 'PRE_VALUE';
          lastValueWhitespace = -1;
        } else {
          if (!WHITESPACE.includes(c)) lastKeyWhitespace = -1;
          else if (lastKeyWhitespace === -1) lastKeyWhitespace = key.length;
          key += c;
        }
        break;
      case 'PRE_VALUE':
        if (NEWLINE.includes(c)) {
          state = 'PRE_KEY';
          push(false);
        } else if (c === "'") state = 'SINGLE_QUOTE_VALUE';
        else if (c === '"') state = 'DOUBLE_QUOTE_VALUE';
        else if (c === '\\') state = 'VALUE_ESCAPE';
        else if (!WHITESPACE.includes(c)) {
          state = 'VALUE';
          value += c;
        }
        break;
      case 'VALUE':
        if (NEWLINE.includes(c)) {
          state = 'PRE_KEY';
          push(true);
        } else if (c === '\\') {
          state = 'VALUE_ESCAPE';
          lastValueWhitespace = -1;
        } else {
          if (!WHITESPACE.includes(c)) lastValueWhitespace = -1;
          else if (lastValueWhitespace === -1) lastValueWhitespace = value.length;
          value += c;
        }
        break;
      case 'VALUE_ESCAPE':
        state = 'VALUE';
        if (!NEWLINE.includes(c)) value += c;
        break;
      case 'SINGLE_QUOTE_VALUE':
        if (c === "'") state = 'PRE_VALUE';
        else value += c;
        break;
      case 'DOUBLE_QUOTE_VALUE':
        if (c === '"') state = 'PRE_VALUE';
        else if (c === '\\') state = 'DOUBLE_QUOTE_VALUE_ESCAPE';
        else value += c;
        break;
      case 'DOUBLE_QUOTE_VALUE_ESCAPE':
        state = 'DOUBLE_QUOTE_VALUE';
        if (SHELL_NEED_ESCAPE.includes(c)) value += c;
        else if (c !== '\n') value += `\\${c}`;
        break;
      case 'COMMENT':
        if (c === '\\') state = 'COMMENT_ESCAPE';
        else if (NEWLINE.includes(c)) state = 'PRE_KEY';
        break;
      case 'COMMENT_ESCAPE':
        state = NEWLINE.includes(c) ? 'PRE_KEY' : 'COMMENT';
        break;
    }
  }
  if (
    [
      'PRE_VALUE',
      'VALUE',
      'VALUE_ESCAPE',
      'SINGLE_QUOTE_VALUE',
      'DOUBLE_QUOTE_VALUE',
      'DOUBLE_QUOTE_VALUE_ESCAPE',
    ].includes(state)
  ) {
    push(state === 'VALUE');
  }
  return out;
}

const GO_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
const isSpace = (c: string) => '\t\v\f\r \u0085\u00a0'.includes(c);

export function parseComposeDotenv(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let src = text;
  for (;;) {
    // getStatementStart
    let pos = 0;
    while (pos < src.length && GO_SPACE.test(src[pos])) pos++;
    if (pos >= src.length) break;
    src = src.slice(pos);
    if (src[0] === '#') {
      const nl = src.indexOf('\n');
      if (nl < 0) break;
      src = src.slice(nl);
      continue;
    }
    // locateKeyName
    if (/^export\s+/.test(src)) src = src.slice('export'.length).replace(/^[\t\v\f\r \u0085\u00a0]+/, '');
    let i = 0;
    let end = -1;
    for (; i < src.length; i++) {
      const c = src[i];
      if (isSpace(c)) continue;
      if (c === '=' || c === ':' || c === '\n') {
        end = i;
        break;
      }
      if (!/[\p{L}\p{N}_.\-[\]]/u.test(c))
        throw new Error(`unexpected character ${JSON.stringify(c)} in name`);
    }
    if (end < 0) throw new Error('no = after a name');
    if (src[end] === '\n') throw new Error('inherited variables are not expected in an export');
    const key = src.slice(0, end).replace(/\s+$/, '');
    if (key.includes(' ')) throw new Error('key cannot contain a space');
    src = src.slice(end + 1).replace(/^[\t\v\f\r \u0085\u00a0]+/, '');
    // extractVarValue
    const quote = src[0];
    if (quote !== "'" && quote !== '"') {
      const nl = src.indexOf('\n');
      let value = nl < 0 ? src : src.slice(0, nl);
      src = nl < 0 ? '' : src.slice(nl);
      const hash = value.indexOf(' #');
      if (hash >= 0) value = value.slice(0, hash);
      out.set(key, interpolate(value.replace(/\s+$/, ''), out));
      continue;
    }
    let escaped = false;
    let chars = '';
    let closed = -1;
    for (let j = 1; j < src.length; j++) {
      const c = src[j];
      if (escaped) {
        escaped = false;
        if (c !== quote) chars += '\\';
        chars += c;
        continue;
      }
      if (c === '\\') escaped = true;
      else if (c === quote) {
        closed = j;
        break;
      } else chars += c;
    }
    if (closed < 0) throw new Error(`unterminated quoted value for ${key}`);
    src = src.slice(closed + 1);
    out.set(key, quote === '"' ? interpolate(expandEscapes(chars), out) : chars);
  }
  return out;
}

function expandEscapes(s: string): string {
  const simple: Record<string, string> = {
    a: '\x07',
    b: '\b',
    f: '\f',
    n: '\n',
    r: '\r',
    t: '\t',
    v: '\v',
    '\\': '\\',
    '"': '"',
  };
  return s.replace(/\\(?:[abcfnrtv$"\\]|0\d{0,3})/g, (m) => {
    if (m === '\\$') return '$$';
    const c = m[1];
    if (c in simple) return simple[c];
    if (c === '0') {
      const digits = m.slice(1);
      // Go's UnquoteChar: \NNN needs exactly three octal digits
      return /^0[0-7]{3}$/.test(digits) ? String.fromCharCode(Number.parseInt(digits.slice(1), 8)) : m;
    }
    return m;
  });
}

/** compose's template.Substitute on a value: `$$` is `$`, `${X}` and `$X` are earlier variables ('' if unset). */
function interpolate(s: string, vars: Map<string, string>): string {
  return s.replace(
    /\$(\$|\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (_m, what: string, braced?: string, bare?: string) => {
      if (what === '$') return '$';
      const name = (braced ?? bare ?? '').replace(/[:?-].*$/, '');
      return vars.get(name) ?? '';
    },
  );
}
