import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MimeTypes, sniffContentType } from './mime.js';

void describe('webdavd content types', () => {
  void it('looks extensions up in the platform table, then the built-in one', () => {
    const m = new MimeTypes({ enabled: true, maxSize: 10 }, new Map([['.odt', 'application/vnd.oasis.opendocument.text']]));
    assert.equal(m.byName('a.ODT'), 'application/vnd.oasis.opendocument.text');
    assert.equal(m.byName('a.json'), 'application/json');
    assert.equal(m.byName('noext'), undefined);
    assert.equal(m.byName('a.unknownext'), undefined);
  });

  void it('caches sniffed types by extension up to max_size, never names without one', () => {
    const m = new MimeTypes({ enabled: true, maxSize: 1 }, new Map());
    m.remember('x.aaa', 'text/plain; charset=utf-8');
    m.remember('x.bbb', 'image/png');
    m.remember('noext', 'image/png');
    assert.equal(m.byName('y.aaa'), 'text/plain; charset=utf-8');
    assert.equal(m.byName('y.bbb'), undefined, 'full: nothing new is added');
    assert.equal(m.cacheSize, 1);
    const off = new MimeTypes({ enabled: false, maxSize: 100 }, new Map());
    off.remember('x.aaa', 'image/png');
    assert.equal(off.cacheSize, 0);
  });

  void it('sniffs common signatures and text', () => {
    assert.equal(sniffContentType(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0])), 'image/png');
    assert.equal(sniffContentType(Buffer.from('%PDF-1.7\n')), 'application/pdf');
    assert.equal(sniffContentType(Buffer.from('<?xml version="1.0"?><a/>')), 'text/xml; charset=utf-8');
    assert.equal(sniffContentType(Buffer.from('hello\nworld\n')), 'text/plain; charset=utf-8');
    assert.equal(sniffContentType(Buffer.from([1, 2, 3, 0])), 'application/octet-stream');
  });
});
