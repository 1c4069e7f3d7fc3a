import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStrictJson, StrictJsonError } from '../helpers/strict-json.js';

void describe('parseStrictJson', () => {
  void it('parses what JSON.parse parses', () => {
    for (const t of [
      '{"a":1,"b":[true,false,null,"x\\"y\\u00e9"],"c":{"d":-1.5e3}}',
      '[]',
      '{}',
      ' "s" ',
      '0',
      '{"a":{"a":{"a":1}}}',
    ]) {
      assert.deepEqual(parseStrictJson(t), JSON.parse(t), t);
    }
  });

  void it('rejects a duplicate key at any depth', () => {
    for (const t of ['{"a":1,"a":1}', '{"x":{"b":1,"c":2,"b":3}}', '[{"k":1,"\\u006b":2}]']) {
      assert.throws(
        () => parseStrictJson(t),
        (e: unknown) => e instanceof StrictJsonError && /duplicate key/.test(e.message),
        t,
      );
    }
  });

  void it('rejects bad syntax', () => {
    for (const t of ['{"a":1,}', '{a:1}', '[1 2]', '{"a":01}', '"\t"', '{"a":1} x', '']) {
      assert.throws(() => parseStrictJson(t), StrictJsonError, JSON.stringify(t));
    }
  });
});
