/**
 * The ssh2 runtime we depend on: the native crypto binding is built (without it transfers are
 * ~2.5x slower, silently), and the private internals ssh2-internals.ts uses still exist.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { ssh2NativeCryptoAvailable } from '../../../src/sftpd/index.js';

const require = createRequire(import.meta.url);

void describe('sftpd: ssh2 runtime', () => {
  void it('has the native crypto binding', () => {
    const crypto = require('ssh2/lib/protocol/crypto.js') as { bindingAvailable?: boolean };
    assert.equal(crypto.bindingAvailable, true);
    assert.equal(ssh2NativeCryptoAvailable(), true);
  });

  void it('still has the private SFTP internals we rely on', () => {
    const { SFTP } = require('ssh2/lib/protocol/SFTP.js') as { SFTP: { prototype: Record<string, unknown> } };
    for (const m of ['status', 'handle', 'data', 'name', 'attrs', 'push', 'end']) {
      assert.equal(typeof SFTP.prototype[m], 'function', m);
    }
    const Protocol = require('ssh2/lib/protocol/Protocol.js') as { prototype: Record<string, unknown> };
    for (const m of ['exitStatus', 'channelData']) assert.equal(typeof Protocol.prototype[m], 'function', m);
    const constants = require('ssh2/lib/protocol/constants.js') as Record<string, unknown>;
    for (const k of ['SUPPORTED_KEX', 'SUPPORTED_CIPHER', 'SUPPORTED_MAC']) assert.ok(Array.isArray(constants[k]), k);
  });
});
