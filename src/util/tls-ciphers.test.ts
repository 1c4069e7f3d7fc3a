import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cipherList } from './tls-ciphers.js';

void describe('tls_cipher_suites', () => {
  void it('maps Go cipher suite names to OpenSSL, keeps TLS 1.3 defaults, reports unknown names', () => {
    const r = cipherList([
      'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
      'TLS_AES_128_GCM_SHA256',
      'BOGUS',
    ]);
    assert.equal(
      r.ciphers,
      'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:ECDHE-RSA-AES128-GCM-SHA256',
    );
    assert.deepEqual(r.unknown, ['BOGUS']);
    assert.deepEqual(cipherList([]), { ciphers: undefined, unknown: [] });
  });
});
