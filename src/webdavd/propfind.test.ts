import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { propfindRequestOf, renderValue, xmlText } from './propfind.js';

void describe('webdavd direct PROPFIND', () => {
  void it('covers no body, allprop and DAV: live property names only', () => {
    assert.deepEqual(propfindRequestOf(null), { allprop: true });
    assert.deepEqual(propfindRequestOf({ propfind: { $: {}, allprop: [{}] } }), { allprop: true });
    assert.deepEqual(
      propfindRequestOf({
        propfind: { prop: [{ getetag: [''], resourcetype: [''] }, { getetag: [''] }] },
      }),
      {
        allprop: false,
        names: ['getetag', 'resourcetype'],
      },
    );
    // allprop with include, propname, other namespaces, our own prefixes: nephele's
    assert.equal(
      propfindRequestOf({ propfind: { allprop: [{}], include: [{ getetag: [''] }] } }),
      undefined,
    );
    assert.equal(propfindRequestOf({ propfind: { propname: [{}] } }), undefined);
    assert.equal(propfindRequestOf({ propfind: { prop: [{ 'urn:x%%foo': [''] }] } }), undefined);
    assert.equal(
      propfindRequestOf({ propfind: { prop: [{ 'sftpgo1:getetag': [''] }] } }),
      undefined,
    );
    assert.equal(propfindRequestOf({ other: {} }), undefined);
  });

  void it('renders values as DAV: elements, text escaped', () => {
    assert.equal(xmlText('a&b<c>d\r'), 'a&amp;b&lt;c&gt;d&#xD;');
    assert.equal(renderValue({ collection: {} }), '<collection/>');
    assert.equal(renderValue({}), '');
    assert.equal(
      renderValue({ lockentry: [{ lockscope: { exclusive: {} } }, { lockscope: { shared: {} } }] }),
      '<lockentry><lockscope><exclusive/></lockscope></lockentry><lockentry><lockscope><shared/></lockscope></lockentry>',
    );
    assert.equal(renderValue('"x&y"'), '"x&amp;y"');
  });
});
