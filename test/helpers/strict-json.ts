/**
 * A strict JSON parser for log checks: unlike JSON.parse (which silently keeps the last of
 * duplicate keys, as jq does) it throws on a key repeated in one object, at any depth. A reviver
 * cannot do this because it only sees the already-deduplicated object. Recursive descent over
 * RFC 8259; string and number tokens are decoded by JSON.parse itself so escapes stay exact.
 */

export class StrictJsonError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
    this.name = 'StrictJsonError';
  }
}

const WS = new Set([' ', '\t', '\n', '\r']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// a JSON string: no raw control characters, only the escapes JSON allows
// eslint-disable-next-line no-control-regex
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

/** parses `text` as one JSON value; throws StrictJsonError on bad syntax or a duplicate key */
export function parseStrictJson(text: string): unknown {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && WS.has(text[i] as string)) i++;
  };
  const token = (re: RegExp, what: string): string => {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) throw new StrictJsonError(`expected ${what}`, i);
    i += m[0].length;
    return m[0];
  };
  const literal = (word: string, v: unknown): unknown => {
    if (!text.startsWith(word, i)) throw new StrictJsonError('unexpected token', i);
    i += word.length;
    return v;
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    switch (c) {
      case '{': {
        i++;
        const out: Record<string, unknown> = {};
        const seen = new Set<string>();
        ws();
        if (text[i] === '}') {
          i++;
          return out;
        }
        for (;;) {
          ws();
          const at = i;
          const key = JSON.parse(token(STRING, 'a key')) as string;
          if (seen.has(key)) throw new StrictJsonError(`duplicate key ${JSON.stringify(key)}`, at);
          seen.add(key);
          ws();
          if (text[i] !== ':') throw new StrictJsonError('expected ":"', i);
          i++;
          Object.defineProperty(out, key, {
            value: value(),
            enumerable: true,
            writable: true,
            configurable: true,
          });
          ws();
          if (text[i] === ',') {
            i++;
            continue;
          }
          if (text[i] === '}') {
            i++;
            return out;
          }
          throw new StrictJsonError('expected "," or "}"', i);
        }
      }
      case '[': {
        i++;
        const out: unknown[] = [];
        ws();
        if (text[i] === ']') {
          i++;
          return out;
        }
        for (;;) {
          out.push(value());
          ws();
          if (text[i] === ',') {
            i++;
            continue;
          }
          if (text[i] === ']') {
            i++;
            return out;
          }
          throw new StrictJsonError('expected "," or "]"', i);
        }
      }
      case '"':
        return JSON.parse(token(STRING, 'a string'));
      case 't':
        return literal('true', true);
      case 'f':
        return literal('false', false);
      case 'n':
        return literal('null', null);
      case undefined:
        throw new StrictJsonError('unexpected end of input', i);
      default:
        return JSON.parse(token(NUMBER, 'a value'));
    }
  };
  const v = value();
  ws();
  if (i !== text.length) throw new StrictJsonError('trailing data', i);
  return v;
}
