/**
 * JSON.parse on Node 20 often reports "Unexpected token '}'" with no position, and an operator fixing a
 * one-line `$CFG` in a docker-compose file needs to know where it broke. This scanner re-reads text that
 * JSON.parse refused and returns where the first error is. It only runs on the failure path.
 */

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${message} at line ${line}, column ${column}`);
    this.name = 'JsonSyntaxError';
  }
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const found = locateJsonError(text);
    if (found) throw new JsonSyntaxError(found.message, found.line, found.column);
    // The scanner and V8 disagree: trust V8's verdict, keep its words.
    throw new JsonSyntaxError((err as Error).message, 1, 1);
  }
}

interface Located {
  message: string;
  line: number;
  column: number;
}

class Stop {
  constructor(
    readonly at: number,
    readonly message: string,
  ) {}
}

export function locateJsonError(text: string): Located | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const fail = (expected: string): never => {
    if (i >= text.length) throw new Stop(i, `unexpected end of input (expected ${expected})`);
    throw new Stop(i, `unexpected ${JSON.stringify(text[i])} (expected ${expected})`);
  };
  const string = () => {
    i++;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        i++;
        return;
      }
      if (c === '\\') {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            i += 2;
            fail('4 hex digits after \\u');
          }
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          i++;
          fail('an escape character');
        }
      } else if (c < ' ') {
        fail('no raw control characters in a string');
      } else {
        i++;
      }
    }
    fail('closing quote');
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('a property name in double quotes');
        string();
        ws();
        if (text[i] !== ':') fail("':'");
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail("',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail("',' or ']'");
      }
    }
    if (c === '"') {
      string();
      return;
    }
    const num = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (num) {
      i += num[0].length;
      return;
    }
    for (const lit of ['true', 'false', 'null']) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return;
      }
    }
    fail('a value');
  };
  try {
    value();
    ws();
    if (i < text.length) fail('end of input');
    return undefined;
  } catch (err) {
    // A stack overflow on absurd nesting: fall back to V8's message.
    if (!(err instanceof Stop)) return undefined;
    const before = text.slice(0, err.at);
    const line = before.split('\n').length;
    const column = err.at - before.lastIndexOf('\n');
    return { message: err.message, line, column };
  }
}
