/**
 * Go's fmt package as far as templates need it: Sprint, Sprintln, Sprintf with the verbs and
 * flags of fmt, applied to the value model of values.ts. Output must match Go byte for byte,
 * including the `%!verb(type=value)` complaints.
 */
import {
  GoChan,
  GoFloat,
  type GoStruct,
  goTypeOf,
  Kind,
  kindOf,
  methodsOf,
  sortedKeys,
  utf8Bytes,
} from './values.js';

interface Flags {
  widPresent: boolean;
  precPresent: boolean;
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  plusV: boolean;
  sharpV: boolean;
  wid: number;
  prec: number;
}

function newFlags(): Flags {
  return {
    widPresent: false,
    precPresent: false,
    minus: false,
    plus: false,
    sharp: false,
    space: false,
    zero: false,
    plusV: false,
    sharpV: false,
    wid: 0,
    prec: 0,
  };
}

function runeCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) i++;
    n++;
  }
  return n;
}

const ldigits = '0123456789abcdefx';
const udigits = '0123456789ABCDEFX';

class Printer {
  buf = '';
  f: Flags = newFlags();
  erroring = false;

  padding(n: number): string {
    if (n <= 0) return '';
    return (this.f.zero ? '0' : ' ').repeat(n);
  }

  pad(s: string): void {
    const f = this.f;
    if (!f.widPresent || f.wid === 0) {
      this.buf += s;
      return;
    }
    const width = f.wid - runeCount(s);
    if (!f.minus) this.buf += this.padding(width) + s;
    else this.buf += s + this.padding(width);
  }

  fmtBoolean(v: boolean): void {
    this.pad(v ? 'true' : 'false');
  }

  fmtUnicode(u: bigint): void {
    const f = this.f;
    let prec = 4;
    if (f.precPresent && f.prec > 4) prec = f.prec;
    let hex = u.toString(16).toUpperCase();
    if (hex.length < prec) hex = '0'.repeat(prec - hex.length) + hex;
    let s = 'U+' + hex;
    if (f.sharp && u <= 0x10ffffn && isPrint(Number(u))) s += " '" + String.fromCodePoint(Number(u)) + "'";
    const oldZero = f.zero;
    f.zero = false;
    this.pad(s);
    f.zero = oldZero;
  }

  fmtInteger(v: bigint, base: number, verb: string, digits: string): void {
    const f = this.f;
    const negative = v < 0n;
    let u = negative ? -v : v;
    let prec = 0;
    if (f.precPresent) {
      prec = f.prec;
      if (prec === 0 && u === 0n) {
        const oldZero = f.zero;
        f.zero = false;
        this.buf += this.padding(f.wid);
        f.zero = oldZero;
        return;
      }
    } else if (f.zero && f.widPresent) {
      prec = f.wid;
      if (negative || f.plus || f.space) prec--;
    }
    let s = '';
    const b = BigInt(base);
    if (u === 0n) s = '0';
    while (u > 0n) {
      s = digits[Number(u % b)] + s;
      u /= b;
    }
    if (s.length < prec) s = '0'.repeat(prec - s.length) + s;
    if (f.sharp) {
      if (base === 2) s = '0b' + s;
      else if (base === 8) {
        if (s[0] !== '0') s = '0' + s;
      } else if (base === 16) s = '0' + digits[16] + s;
    }
    if (verb === 'O') s = '0o' + s;
    if (negative) s = '-' + s;
    else if (f.plus) s = '+' + s;
    else if (f.space) s = ' ' + s;
    const oldZero = f.zero;
    f.zero = false;
    this.pad(s);
    f.zero = oldZero;
  }

  truncate(s: string): string {
    const f = this.f;
    if (f.precPresent) {
      let n = f.prec;
      let i = 0;
      while (i < s.length) {
        n--;
        if (n < 0) return s.slice(0, i);
        const c = s.charCodeAt(i);
        i += c >= 0xd800 && c <= 0xdbff ? 2 : 1;
      }
    }
    return s;
  }

  fmtS(s: string): void {
    this.pad(this.truncate(s));
  }

  fmtSx(s: string, digits: string): void {
    const f = this.f;
    const b = utf8Bytes(s);
    let length = b.length;
    if (f.precPresent && f.prec < length) length = f.prec;
    let width = 2 * length;
    if (width > 0) {
      if (f.space) {
        if (f.sharp) width *= 2;
        width += length - 1;
      } else if (f.sharp) width += 2;
    } else {
      if (f.widPresent) this.buf += this.padding(f.wid);
      return;
    }
    if (f.widPresent && f.wid > width && !f.minus) this.buf += this.padding(f.wid - width);
    let out = '';
    if (f.sharp) out += '0' + digits[16];
    for (let i = 0; i < length; i++) {
      if (f.space && i > 0) {
        out += ' ';
        if (f.sharp) out += '0' + digits[16];
      }
      const c = b[i];
      out += digits[c >> 4] + digits[c & 0xf];
    }
    this.buf += out;
    if (f.widPresent && f.wid > width && f.minus) this.buf += this.padding(f.wid - width);
  }

  fmtQ(s: string): void {
    const f = this.f;
    s = this.truncate(s);
    if (f.sharp && canBackquote(s)) {
      this.pad('`' + s + '`');
      return;
    }
    this.pad(f.plus ? quoteWith(s, '"', true) : quoteWith(s, '"', false));
  }

  fmtC(c: bigint): void {
    const r = c > 0x10ffffn || c < 0n || (c >= 0xd800n && c <= 0xdfffn) ? 0xfffd : Number(c);
    this.pad(String.fromCodePoint(r));
  }

  fmtQc(c: bigint): void {
    const r = c > 0x10ffffn || c < 0n || (c >= 0xd800n && c <= 0xdfffn) ? 0xfffd : Number(c);
    this.pad(quoteRune(r, this.f.plus));
  }

  fmtFloat(v: number, verb: string, prec: number): void {
    const f = this.f;
    if (f.precPresent) prec = f.prec;
    let num = formatFloat(v, verb, prec);
    if (num[0] === '-' || num[0] === '+') {
      // keep sign
    } else num = '+' + num;
    if (f.space && num[0] === '+' && !f.plus) num = ' ' + num.slice(1);
    if (num[1] === 'I' || num[1] === 'N') {
      const oldZero = f.zero;
      f.zero = false;
      if (num[1] === 'N' && !f.space && !f.plus) num = num.slice(1);
      this.pad(num);
      f.zero = oldZero;
      return;
    }
    if (f.sharp && verb !== 'b') {
      let digits = 0;
      if (verb === 'v' || verb === 'g' || verb === 'G' || verb === 'x') {
        digits = prec;
        if (digits === -1) digits = 6;
      }
      let tail = '';
      let body = num;
      let hasDecimalPoint = false;
      let sawNonzeroDigit = false;
      for (let i = 1; i < body.length; i++) {
        const ch = body[i];
        if (ch === '.') hasDecimalPoint = true;
        else if (ch === 'p' || ch === 'P') {
          tail = body.slice(i);
          body = body.slice(0, i);
          break;
        } else if ((ch === 'e' || ch === 'E') && verb !== 'x' && verb !== 'X') {
          tail = body.slice(i);
          body = body.slice(0, i);
          break;
        } else {
          if (ch !== '0') sawNonzeroDigit = true;
          if (sawNonzeroDigit) digits--;
        }
      }
      if (!hasDecimalPoint) {
        if (body.length === 2 && body[1] === '0') digits--;
        body += '.';
      }
      while (digits > 0) {
        body += '0';
        digits--;
      }
      num = body + tail;
    }
    if (f.plus || num[0] !== '+') {
      if (f.zero && f.widPresent && f.wid > num.length) {
        this.buf += num[0] + this.padding(f.wid - num.length) + num.slice(1);
        return;
      }
      this.pad(num);
      return;
    }
    this.pad(num.slice(1));
  }

  badVerb(verb: string, arg: unknown, hasArg: boolean): void {
    this.erroring = true;
    this.buf += '%!' + verb + '(';
    if (hasArg && arg !== null && arg !== undefined) {
      this.buf += goTypeOf(arg) + '=';
      this.printArg(arg, 'v');
    } else this.buf += '<nil>';
    this.buf += ')';
    this.erroring = false;
  }

  fmtBool(v: boolean, verb: string): void {
    if (verb === 't' || verb === 'v') this.fmtBoolean(v);
    else this.badVerb(verb, v, true);
  }

  fmtIntegerVerb(v: bigint, verb: string, orig: unknown): void {
    switch (verb) {
      case 'v':
      case 'd':
        this.fmtInteger(v, 10, verb, ldigits);
        return;
      case 'b':
        this.fmtInteger(v, 2, verb, ldigits);
        return;
      case 'o':
      case 'O':
        this.fmtInteger(v, 8, verb, ldigits);
        return;
      case 'x':
        this.fmtInteger(v, 16, verb, ldigits);
        return;
      case 'X':
        this.fmtInteger(v, 16, verb, udigits);
        return;
      case 'c':
        this.fmtC(v);
        return;
      case 'q':
        this.fmtQc(v);
        return;
      case 'U':
        this.fmtUnicode(v < 0n ? v + (1n << 64n) : v);
        return;
      default:
        this.badVerb(verb, orig, true);
    }
  }

  fmtFloatVerb(v: number, verb: string, orig: unknown): void {
    switch (verb) {
      case 'v':
        this.fmtFloat(v, 'g', -1);
        return;
      case 'b':
      case 'g':
      case 'G':
      case 'x':
      case 'X':
        this.fmtFloat(v, verb, -1);
        return;
      case 'f':
      case 'e':
      case 'E':
        this.fmtFloat(v, verb, 6);
        return;
      case 'F':
        this.fmtFloat(v, 'f', 6);
        return;
      default:
        this.badVerb(verb, orig, true);
    }
  }

  fmtString(v: string, verb: string): void {
    switch (verb) {
      case 'v':
        if (this.f.sharpV) this.fmtQ(v);
        else this.fmtS(v);
        return;
      case 's':
        this.fmtS(v);
        return;
      case 'x':
        this.fmtSx(v, ldigits);
        return;
      case 'X':
        this.fmtSx(v, udigits);
        return;
      case 'q':
        this.fmtQ(v);
        return;
      default:
        this.badVerb(verb, v, true);
    }
  }

  printArg(arg: unknown, verb: string): void {
    if (arg === null || arg === undefined) {
      if (verb === 'T' || verb === 'v') this.pad('<nil>');
      else this.badVerb(verb, arg, false);
      return;
    }
    if (verb === 'T') {
      this.fmtS(goTypeOf(arg));
      return;
    }
    if (verb === 'p') {
      this.fmtPointer(arg, verb);
      return;
    }
    this.printValue(arg, verb, 0);
  }

  fmtPointer(arg: unknown, verb: string): void {
    const k = kindOf(arg);
    if (k === Kind.Slice || k === Kind.Map || k === Kind.Func || k === Kind.Chan || k === Kind.Struct) {
      // Addresses are not reproducible; print a stable stand-in.
      if (verb === 'v' && this.f.sharpV) this.buf += '(' + goTypeOf(arg) + ')(0xc000010000)';
      else this.pad('0xc000010000');
      return;
    }
    this.badVerb(verb, arg, true);
  }

  printValue(v: unknown, verb: string, depth: number): void {
    // Go's handleMethods: a Stringer prints as its String() for the string-like verbs.
    const methods = methodsOf(v);
    if (methods?.String && methods.String.params.length === 0 && !this.f.sharpV && 'vsxXq'.includes(verb)) {
      this.fmtString(String(methods.String.fn()), verb);
      return;
    }
    switch (kindOf(v)) {
      case Kind.Nil:
        // A nil interface inside a container.
        if (depth > 0) {
          this.buf += this.f.sharpV ? 'interface {}(nil)' : '<nil>';
          return;
        }
        this.buf += '<invalid reflect.Value>';
        return;
      case Kind.Invalid:
        if (depth === 0) {
          this.buf += '<invalid reflect.Value>';
        } else if (verb === 'v') this.buf += '<nil>';
        else this.badVerb(verb, undefined, false);
        return;
      case Kind.Bool:
        this.fmtBool(v as boolean, verb);
        return;
      case Kind.Int:
        this.fmtIntegerVerb(BigInt(v as number | bigint), verb, v);
        return;
      case Kind.Float:
        this.fmtFloatVerb(v instanceof GoFloat ? v.value : (v as number), verb, v);
        return;
      case Kind.String:
        this.fmtString(v as string, verb);
        return;
      case Kind.Map: {
        const m = v as Record<string, unknown>;
        if (this.f.sharpV) this.buf += goTypeOf(v) + '{';
        else this.buf += 'map[';
        const keys = sortedKeys(m);
        for (let i = 0; i < keys.length; i++) {
          if (i > 0) this.buf += this.f.sharpV ? ', ' : ' ';
          this.printValue(keys[i], verb, depth + 1);
          this.buf += ':';
          this.printValue(m[keys[i]], verb, depth + 1);
        }
        this.buf += this.f.sharpV ? '}' : ']';
        return;
      }
      case Kind.Struct: {
        const s = v as GoStruct;
        // A fmt.Stringer (e.g. sprig's *semver.Version) prints through its String method.
        if (s.methods.String && !this.f.sharpV && 'vsqxX'.includes(verb)) {
          this.fmtString(s.methods.String.fn() as string, verb);
          return;
        }
        if (depth > 0 && s.typeName.startsWith('*')) {
          this.fmtPointer(v, verb);
          return;
        }
        if (s.typeName.startsWith('*')) this.buf += '&';
        if (this.f.sharpV) this.buf += s.typeName.replace(/^\*/, '');
        this.buf += '{';
        const names = Object.keys(s.fields);
        for (let i = 0; i < names.length; i++) {
          if (i > 0) this.buf += this.f.sharpV ? ', ' : ' ';
          if (this.f.plusV || this.f.sharpV) this.buf += names[i] + ':';
          this.printValue(s.fields[names[i]], verb, depth + 1);
        }
        this.buf += '}';
        return;
      }
      case Kind.Slice: {
        const a = v as unknown[];
        if (this.f.sharpV) {
          this.buf += goTypeOf(v) + '{';
          for (let i = 0; i < a.length; i++) {
            if (i > 0) this.buf += ', ';
            this.printValue(a[i], verb, depth + 1);
          }
          this.buf += '}';
        } else {
          this.buf += '[';
          for (let i = 0; i < a.length; i++) {
            if (i > 0) this.buf += ' ';
            this.printValue(a[i], verb, depth + 1);
          }
          this.buf += ']';
        }
        return;
      }
      case Kind.Chan:
      case Kind.Func:
        this.fmtPointer(v, verb);
        return;
      default:
        this.buf += '?' + goTypeOf(v) + '?';
    }
  }

  doPrintf(format: string, a: unknown[]): void {
    const end = format.length;
    let argNum = 0;
    let afterIndex = false;
    let reordered = false;
    let goodArgNum = true;
    const f = this.f;

    const argNumber = (argNum: number, i: number): [number, number, boolean] => {
      if (format.length <= i || format[i] !== '[') return [argNum, i, false];
      reordered = true;
      const [index, wid, ok] = parseArgNumber(format.slice(i));
      if (ok && index >= 0 && index < a.length) return [index, i + wid, true];
      goodArgNum = false;
      return [argNum, i + wid, ok];
    };
    const intFromArg = (argNum: number): [number, boolean, number] => {
      let num = 0;
      let isInt = false;
      let newArgNum = argNum;
      if (argNum < a.length) {
        const x = a[argNum];
        if (kindOf(x) === Kind.Int) {
          const n = Number(x);
          num = n;
          isInt = true;
        }
        newArgNum = argNum + 1;
        if (num > 1e6 || num < -1e6) {
          num = 0;
          isInt = false;
        }
      }
      return [num, isInt, newArgNum];
    };

    let i = 0;
    formatLoop: while (i < end) {
      goodArgNum = true;
      const lasti = i;
      while (i < end && format[i] !== '%') i++;
      if (i > lasti) this.buf += format.slice(lasti, i);
      if (i >= end) break;
      i++;
      Object.assign(f, newFlags());
      simple: for (; i < end; i++) {
        const c = format[i];
        switch (c) {
          case '#':
            f.sharp = true;
            break;
          case '0':
            f.zero = !f.minus;
            break;
          case '+':
            f.plus = true;
            break;
          case '-':
            f.minus = true;
            f.zero = false;
            break;
          case ' ':
            f.space = true;
            break;
          default:
            if (c >= 'a' && c <= 'z' && argNum < a.length) {
              if (c === 'v') {
                f.sharpV = f.sharp;
                f.sharp = false;
                f.plusV = f.plus;
                f.plus = false;
              }
              this.printArg(a[argNum], c);
              argNum++;
              i++;
              continue formatLoop;
            }
            break simple;
        }
      }
      [argNum, i, afterIndex] = argNumber(argNum, i);
      if (i < end && format[i] === '*') {
        i++;
        [f.wid, f.widPresent, argNum] = intFromArg(argNum);
        if (!f.widPresent) this.buf += '%!(BADWIDTH)';
        if (f.wid < 0) {
          f.wid = -f.wid;
          f.minus = true;
          f.zero = false;
        }
        afterIndex = false;
      } else {
        [f.wid, f.widPresent, i] = parsenum(format, i, end);
        if (afterIndex && f.widPresent) goodArgNum = false;
      }
      if (i + 1 < end && format[i] === '.') {
        i++;
        if (afterIndex) goodArgNum = false;
        [argNum, i, afterIndex] = argNumber(argNum, i);
        if (i < end && format[i] === '*') {
          i++;
          [f.prec, f.precPresent, argNum] = intFromArg(argNum);
          if (f.prec < 0) {
            f.prec = 0;
            f.precPresent = false;
          }
          if (!f.precPresent) this.buf += '%!(BADPREC)';
          afterIndex = false;
        } else {
          [f.prec, f.precPresent, i] = parsenum(format, i, end);
          if (!f.precPresent) {
            f.prec = 0;
            f.precPresent = true;
          }
        }
      }
      if (!afterIndex) [argNum, i, afterIndex] = argNumber(argNum, i);
      if (i >= end) {
        this.buf += '%!(NOVERB)';
        break;
      }
      const cp = format.codePointAt(i)!;
      const verb = String.fromCodePoint(cp);
      i += verb.length;
      if (verb === '%') {
        this.buf += '%';
      } else if (!goodArgNum) {
        this.buf += '%!' + verb + '(BADINDEX)';
      } else if (argNum >= a.length) {
        this.buf += '%!' + verb + '(MISSING)';
      } else {
        if (verb === 'v') {
          f.sharpV = f.sharp;
          f.sharp = false;
          f.plusV = f.plus;
          f.plus = false;
        }
        this.printArg(a[argNum], verb);
        argNum++;
      }
    }
    if (!reordered && argNum < a.length) {
      Object.assign(f, newFlags());
      this.buf += '%!(EXTRA ';
      for (let k = argNum; k < a.length; k++) {
        if (k > argNum) this.buf += ', ';
        const arg = a[k];
        if (arg === null || arg === undefined) this.buf += '<nil>';
        else {
          this.buf += goTypeOf(arg) + '=';
          this.printArg(arg, 'v');
        }
      }
      this.buf += ')';
    }
  }
}

function parsenum(s: string, start: number, end: number): [number, boolean, number] {
  if (start >= end) return [0, false, end];
  let num = 0;
  let isnum = false;
  let i = start;
  for (; i < end && s[i] >= '0' && s[i] <= '9'; i++) {
    if (num > 1e6 || num < -1e6) return [0, false, end];
    num = num * 10 + (s.charCodeAt(i) - 48);
    isnum = true;
  }
  return [num, isnum, i];
}

function parseArgNumber(format: string): [number, number, boolean] {
  if (format.length < 3) return [0, 1, false];
  for (let i = 1; i < format.length; i++) {
    if (format[i] === ']') {
      const [width, ok, newi] = parsenum(format, 1, i);
      if (!ok || newi !== i) return [0, i + 1, false];
      return [width - 1, i + 1, true];
    }
  }
  return [0, 1, false];
}

/** fmt.Sprintf */
export function sprintf(format: string, args: unknown[]): string {
  const p = new Printer();
  p.doPrintf(format, args);
  return p.buf;
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function sprint(args: unknown[]): string {
  if (args.length === 1) {
    const a = args[0];
    if (typeof a === 'string') return a;
    if (typeof a === 'number' && Number.isInteger(a) && Math.abs(a) < 9.2e18) return String(a);
  }
  const p = new Printer();
  let prevString = false;
  for (let i = 0; i < args.length; i++) {
    const isString = typeof args[i] === 'string';
    if (i > 0 && !isString && !prevString) p.buf += ' ';
    p.f = newFlags();
    p.printArg(args[i], 'v');
    prevString = isString;
  }
  return p.buf;
}

/** fmt.Sprintln */
export function sprintln(args: unknown[]): string {
  const p = new Printer();
  for (let i = 0; i < args.length; i++) {
    if (i > 0) p.buf += ' ';
    p.f = newFlags();
    p.printArg(args[i], 'v');
  }
  return p.buf + '\n';
}

// ---- strconv ----

const printRe = /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u;

/** strconv.IsPrint */
export function isPrint(r: number): boolean {
  if (r < 0x80) return r >= 0x20 && r < 0x7f;
  if (r >= 0xd800 && r <= 0xdfff) return false;
  if (r > 0x10ffff) return false;
  return printRe.test(String.fromCodePoint(r));
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

function escapeRune(r: number, quote: string, asciiOnly: boolean): string {
  if (r === quote.charCodeAt(0) || r === 0x5c) return '\\' + String.fromCharCode(r);
  if (asciiOnly) {
    if (r < 0x80 && isPrint(r)) return String.fromCharCode(r);
  } else if (isPrint(r)) return String.fromCodePoint(r);
  switch (r) {
    case 7:
      return '\\a';
    case 8:
      return '\\b';
    case 12:
      return '\\f';
    case 10:
      return '\\n';
    case 13:
      return '\\r';
    case 9:
      return '\\t';
    case 11:
      return '\\v';
  }
  if (r < 0x20 || r === 0x7f) return '\\x' + hex2(r);
  if (r < 0x10000) return '\\u' + r.toString(16).padStart(4, '0');
  return '\\U' + r.toString(16).padStart(8, '0');
}

/** strconv.Quote / QuoteToASCII */
export function quoteWith(s: string, quote: string, asciiOnly: boolean): string {
  let out = quote;
  for (let i = 0; i < s.length; i++) {
    let r = s.charCodeAt(i);
    if (r >= 0xd800 && r <= 0xdbff && i + 1 < s.length) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        r = ((r - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
        i++;
      }
    }
    if (r >= 0xd800 && r <= 0xdfff) {
      out += '\\ufffd';
      continue;
    }
    if (r < 0x80 && r >= 0x20 && r !== 0x7f && r !== 0x5c && r !== quote.charCodeAt(0)) {
      out += String.fromCharCode(r);
      continue;
    }
    out += escapeRune(r, quote, asciiOnly);
  }
  return out + quote;
}

export function quote(s: string): string {
  return quoteWith(s, '"', false);
}

function quoteRune(r: number, asciiOnly: boolean): string {
  return "'" + (r === 0x27 ? "\\'" : r === 0x22 ? '"' : escapeRune(r, "'", asciiOnly)) + "'";
}

function canBackquote(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x60 || c === 0xfeff) return false;
    if (c < 0x20 && c !== 9) return false;
    if (c === 0x7f) return false;
  }
  return true;
}

// ---- float formatting (strconv.FormatFloat for 64-bit floats) ----

interface Digits {
  d: string;
  dp: number;
}

function shortestDigits(x: number): Digits {
  if (x === 0) return { d: '', dp: 0 };
  const e = x.toExponential();
  const [mant, exp] = e.split('e');
  const d = mant.replace('.', '');
  return { d, dp: Number(exp) + 1 };
}

const f64 = new DataView(new ArrayBuffer(8));

function exactDigits(x: number): Digits {
  if (x === 0) return { d: '', dp: 0 };
  f64.setFloat64(0, x);
  const hi = f64.getUint32(0);
  const lo = f64.getUint32(4);
  const bexp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (bexp === 0) exp = -1074;
  else {
    mant |= 1n << 52n;
    exp = bexp - 1075;
  }
  let d: string;
  let dp: number;
  if (exp >= 0) {
    d = (mant << BigInt(exp)).toString();
    dp = d.length;
  } else {
    const k = -exp;
    d = (mant * 5n ** BigInt(k)).toString();
    dp = d.length - k;
  }
  d = d.replace(/0+$/, '');
  return { d, dp };
}

/** Round to nd digits, half to even on the exact value (Go's decimal.Round). */
function roundDigits(dg: Digits, nd: number): Digits {
  const { d } = dg;
  if (nd < 0 || nd >= d.length) return dg;
  let up: boolean;
  if (d[nd] === '5' && nd + 1 === d.length) up = nd > 0 && (d.charCodeAt(nd - 1) - 48) % 2 === 1;
  else up = d[nd] >= '5';
  if (!up) return { d: d.slice(0, nd).replace(/0+$/, ''), dp: dg.dp };
  let i = nd - 1;
  while (i >= 0 && d[i] === '9') i--;
  if (i < 0) return { d: '1', dp: dg.dp + 1 };
  return { d: d.slice(0, i) + String.fromCharCode(d.charCodeAt(i) + 1), dp: dg.dp };
}

function fmtE(neg: boolean, dg: Digits, prec: number, fmt: string): string {
  let s = neg ? '-' : '';
  s += dg.d.length ? dg.d[0] : '0';
  if (prec > 0) {
    s += '.';
    let i = 1;
    const m = Math.min(dg.d.length, prec + 1);
    if (i < m) {
      s += dg.d.slice(i, m);
      i = m;
    }
    for (; i <= prec; i++) s += '0';
  }
  s += fmt;
  let exp = dg.dp - 1;
  if (dg.d.length === 0) exp = 0;
  if (exp < 0) {
    s += '-';
    exp = -exp;
  } else s += '+';
  s += exp < 10 ? '0' + exp : String(exp);
  return s;
}

function fmtF(neg: boolean, dg: Digits, prec: number): string {
  let s = neg ? '-' : '';
  if (dg.dp > 0) {
    const m = Math.min(dg.d.length, dg.dp);
    s += dg.d.slice(0, m);
    if (m < dg.dp) s += '0'.repeat(dg.dp - m);
  } else s += '0';
  if (prec > 0) {
    s += '.';
    for (let i = 0; i < prec; i++) {
      const j = dg.dp + i;
      s += j >= 0 && j < dg.d.length ? dg.d[j] : '0';
    }
  }
  return s;
}

/** strconv.FormatFloat(x, fmt, prec, 64) for fmt in e E f g G (b and x approximate). */
export function formatFloat(x: number, fmt: string, prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Number.POSITIVE_INFINITY) return '+Inf';
  if (x === Number.NEGATIVE_INFINITY) return '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const ax = Math.abs(x);
  if (fmt === 'b' || fmt === 'x' || fmt === 'X') return formatFloatBinary(x, fmt, prec);
  const shortest = prec < 0;
  let dg: Digits;
  if (shortest) {
    dg = shortestDigits(ax);
    if (fmt === 'e' || fmt === 'E') prec = Math.max(dg.d.length - 1, 0);
    else if (fmt === 'f') prec = Math.max(dg.d.length - dg.dp, 0);
    else prec = dg.d.length;
  } else {
    dg = exactDigits(ax);
    if (fmt === 'e' || fmt === 'E') dg = roundDigits(dg, prec + 1);
    else if (fmt === 'f') dg = roundDigits(dg, dg.dp + prec);
    else {
      if (prec === 0) prec = 1;
      dg = roundDigits(dg, prec);
    }
  }
  if (fmt === 'e' || fmt === 'E') return fmtE(neg, dg, prec, fmt);
  if (fmt === 'f') return fmtF(neg, dg, prec);
  let eprec = prec;
  if (eprec > dg.d.length && dg.d.length >= dg.dp) eprec = dg.d.length;
  if (shortest) eprec = 6;
  const exp = dg.dp - 1;
  if (exp < -4 || exp >= eprec) {
    if (prec > dg.d.length) prec = dg.d.length;
    return fmtE(neg, dg, prec - 1, fmt === 'g' ? 'e' : 'E');
  }
  if (prec > dg.dp) prec = dg.d.length;
  return fmtF(neg, dg, Math.max(prec - dg.dp, 0));
}

function formatFloatBinary(x: number, fmt: string, prec: number): string {
  f64.setFloat64(0, x);
  const hi = f64.getUint32(0);
  const lo = f64.getUint32(4);
  const neg = hi >>> 31 === 1;
  const bexp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp = bexp - 1023;
  if (bexp === 0) exp = -1022;
  else mant |= 1n << 52n;
  if (fmt === 'b') return (neg ? '-' : '') + mant.toString() + 'p' + (exp - 52 >= 0 ? '+' : '') + (exp - 52);
  // %x: -0x1.yyyyp±dd
  if (mant === 0n) exp = 0;
  while (mant !== 0n && mant < 1n << 52n) {
    mant <<= 1n;
    exp--;
  }
  let frac = mant & ((1n << 52n) - 1n);
  let lead = mant === 0n ? 0n : 1n;
  let hex = frac.toString(16).padStart(13, '0');
  if (prec >= 0 && prec < 13) {
    const shift = BigInt((13 - prec) * 4);
    const half = 1n << (shift - 1n);
    const rem = frac & ((1n << shift) - 1n);
    frac >>= shift;
    if (rem > half || (rem === half && (frac & 1n) === 1n)) frac++;
    if (frac >> BigInt(prec * 4) !== 0n) {
      frac &= (1n << BigInt(prec * 4)) - 1n;
      lead++;
      if (lead === 2n) {
        lead = 1n;
        exp++;
      }
    }
    hex = prec === 0 ? '' : frac.toString(16).padStart(prec, '0');
  } else {
    hex = hex.replace(/0+$/, '');
    if (prec > 13) hex = hex.padEnd(prec, '0');
  }
  let s = (neg ? '-' : '') + '0x' + lead.toString() + (hex ? '.' + hex : '') + 'p';
  s += exp >= 0 ? '+' : '-';
  const ae = Math.abs(exp);
  s += ae < 10 ? '0' + ae : String(ae);
  return fmt === 'X' ? s.toUpperCase() : s;
}

export { GoChan };
