import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createKms } from '../kms/index.js';
import { secretDecrypter, secretEncrypter } from './start.js';

void describe('service secrets', () => {
  void it('a secret stored by the data provider decrypts back for the backends', async () => {
    const kms = createKms({ secrets: { url: '', master_key_path: '' } }, '/');
    const stored = await secretEncrypter(kms).encrypt({
      status: 'Plain',
      payload: 'the access secret',
      additional_data: 'alice',
    });
    assert.equal(stored.status, 'Secretbox');
    assert.notEqual(stored.payload, 'the access secret');
    assert.equal(await secretDecrypter(kms)({ ...stored, status: 'Secretbox' }), 'the access secret');
    assert.equal(await secretDecrypter(kms)({}), '');
  });
});
