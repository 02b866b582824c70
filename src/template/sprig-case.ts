/** huandu/xstrings' case conversions (ToCamelCase, ToSnakeCase, ToKebabCase), which sprig uses. */

const isSpace = (r: string) =>
  /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/u.test(r);
const isConnector = (r: string) => r === '-' || r === '_' || isSpace(r);
const isUpper = (r: string) => /^\p{Lu}$/u.test(r);
const isPunct = (r: string) => /^\p{P}$/u.test(r);
const isNumber = (r: string) => /^\p{N}$/u.test(r);
const isAlphabet = (r: string) => {
  if (!/^\p{L}$/u.test(r)) return false;
  const c = r.codePointAt(0)!;
  if (c >= 0x4e00 && c <= 0x9fcc) return false;
  if (c >= 0x3400 && c <= 0x4d85) return false;
  if (c >= 0x20000 && c <= 0x2b81d) return false;
  return true;
};
const toUpper = (r: string) => (r.toUpperCase().length === r.length ? r.toUpperCase() : r);
const toLowerR = (r: string) => (r.toLowerCase().length === r.length ? r.toLowerCase() : r);

export function toCamelCase(s: string): string {
  const rs = Array.from(s);
  if (rs.length === 0) return '';
  let out = '';
  let i = 0;
  let r0 = '';
  // Leading connectors stay.
  for (; i < rs.length; ) {
    r0 = rs[i++];
    if (!isConnector(r0)) {
      r0 = toUpper(r0);
      break;
    }
    out += r0;
  }
  // A string of one rune, or of connectors only: xstrings writes the last rune again.
  if (i >= rs.length) return out + r0;
  while (i < rs.length) {
    const r1 = r0;
    r0 = rs[i++];
    if (isConnector(r0) && isConnector(r1)) {
      out += r1;
      continue;
    }
    if (isConnector(r1)) r0 = toUpper(r0);
    else {
      r0 = toLowerR(r0);
      out += r1;
    }
  }
  return out + r0;
}

enum W {
  Invalid = 0,
  Number = 1,
  Upper = 2,
  Alpha = 3,
  Connector = 4,
  Punct = 5,
  Other = 6,
}

function nextWord(rs: string[], start: number): [W, number] {
  if (start >= rs.length) return [W.Invalid, start];
  let i = start;
  const r = rs[i++];
  if (isConnector(r)) {
    while (i < rs.length && isConnector(rs[i])) i++;
    return [W.Connector, i];
  }
  if (isPunct(r)) {
    while (i < rs.length && isPunct(rs[i])) i++;
    return [W.Punct, i];
  }
  if (isUpper(r)) {
    if (i >= rs.length) return [W.Upper, i];
    if (isUpper(rs[i])) {
      i++;
      while (i < rs.length && isUpper(rs[i])) i++;
      // "HTTPServer": the last capital starts the next word.
      if (i < rs.length && isAlphabet(rs[i])) i--;
    } else if (isAlphabet(rs[i])) {
      i++;
      while (i < rs.length && isAlphabet(rs[i]) && !isUpper(rs[i])) i++;
    }
    return [W.Upper, i];
  }
  if (isAlphabet(r)) {
    while (i < rs.length && isAlphabet(rs[i]) && !isUpper(rs[i])) i++;
    return [W.Alpha, i];
  }
  if (isNumber(r)) {
    while (i < rs.length && isNumber(rs[i])) i++;
    return [W.Number, i];
  }
  while (i < rs.length && !(isConnector(rs[i]) || isAlphabet(rs[i]) || isNumber(rs[i]) || isPunct(rs[i])))
    i++;
  return [W.Other, i];
}

export function camelToLower(s: string, connector: string): string {
  const rs = Array.from(s);
  if (rs.length === 0) return '';
  let out = '';
  const lower = (wt: W, a: number, b: number) => {
    if (wt !== W.Upper && wt !== W.Connector) {
      out += rs.slice(a, b).join('');
      return;
    }
    for (const r of rs.slice(a, b)) out += isConnector(r) ? connector : isUpper(r) ? toLowerR(r) : r;
  };
  let start = 0;
  let [wt, end] = nextWord(rs, 0);
  const next = (): W => {
    start = end;
    const [t, e] = nextWord(rs, end);
    end = e;
    return t;
  };
  while (end < rs.length) {
    if (wt !== W.Connector) lower(wt, start, end);
    const prev = wt;
    const lastStart = start;
    const lastEnd = end;
    wt = next();
    switch (prev) {
      case W.Number:
        while (wt === W.Alpha || wt === W.Number) {
          lower(wt, start, end);
          wt = next();
        }
        if (wt !== W.Invalid && wt !== W.Punct && wt !== W.Connector) out += connector;
        break;
      case W.Connector:
        lower(prev, lastStart, lastEnd);
        break;
      case W.Punct:
        break;
      default: {
        if (wt !== W.Number) {
          if (wt !== W.Connector && wt !== W.Punct) out += connector;
          break;
        }
        if (end >= rs.length) break;
        const numStart = start;
        const numEnd = end;
        wt = next();
        if (wt !== W.Alpha) {
          lower(W.Number, numStart, numEnd);
          if (wt !== W.Connector && wt !== W.Punct) out += connector;
          break;
        }
        out += connector;
        lower(W.Number, numStart, numEnd);
        while (wt === W.Alpha || wt === W.Number) {
          lower(wt, start, end);
          wt = next();
        }
        if (wt !== W.Invalid && wt !== W.Connector && wt !== W.Punct) out += connector;
      }
    }
  }
  lower(wt, start, end);
  return out;
}
