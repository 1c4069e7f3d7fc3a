import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitMixedNamespaces } from './methods.js';

const el = (uri: string, local: string, text?: string): Record<string, unknown> => ({
  $ns: { uri, local },
  ...(text === undefined ? {} : { _: text }),
});

void describe('splitMixedNamespaces', () => {
  void it('splits same-name siblings of different namespaces into prefixed keys', () => {
    const parsed = {
      propfind: { $ns: { uri: 'DAV:', local: 'propfind' }, prop: [{ $ns: { uri: 'DAV:', local: 'prop' }, x: [el('urn:a', 'x'), el('urn:b', 'x'), el('urn:a', 'x', 'again'), el('urn:c', 'x')] }] },
    };
    const out = splitMixedNamespaces(parsed) as { propfind: { prop: Record<string, unknown[]>[] } };
    const prop = out.propfind.prop[0];
    assert.ok(prop);
    assert.deepEqual(Object.keys(prop), ['$ns', 'x', 'sftpgo1:x', 'sftpgo2:x']);
    assert.equal(prop.x?.length, 2, 'the urn:a elements stay together');
    assert.deepEqual(prop['sftpgo1:x'], [el('urn:b', 'x')]);
  });

  void it('leaves single-namespace arrays and scalars alone', () => {
    const parsed = { a: [el('DAV:', 'a', '1'), el('DAV:', 'a', '2')], b: 'text' };
    assert.deepEqual(splitMixedNamespaces(parsed), parsed);
  });
});
