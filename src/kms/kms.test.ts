import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SftpgoError } from '../errors/index.js';
import type { KmsConfig } from '../config/index.js';
import { aesGcmEncrypt } from './local.js';
import { createKms, isEmptySecret, isValidSecret, plainSecret, secretboxDecrypt } from './index.js';
import type { Secret } from './index.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'sftpgo-kms-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const cfg = (url = '', master_key_path = ''): KmsConfig => ({ secrets: { url, master_key_path } });

async function rejectsWith(p: Promise<unknown>, code: string, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(SftpgoError.is(e), `not a SftpgoError: ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, re);
    return true;
  });
}

/**
 * Vectors computed by an independent implementation of upstream's algorithm (Python: a
 * from-scratch XSalsa20-Poly1305 secretbox, HKDF/AES-GCM from `cryptography`), following
 * kms/local.go + gocloud localsecrets and kms/builtin.go: key = 00..1f, nonce = 0x64..0x7b.
 */
const KEY = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
const SECRETBOX_VECTORS = [
  {
    ad: '',
    master: '',
    plain: 'my secret',
    payload: 'ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7B0fYEvJ0KMLjKS/oLCgOkGYmYOxoDtkt0A==',
  },
  {
    ad: 'user1',
    master: '',
    plain: 'access-secret-ü',
    payload: 'ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7jLI76prGCXo5N4ZsHkHczb2hkSbUdnwnHUEEONpRjyY=',
  },
  {
    ad: 'user1',
    master: 'master-key-text',
    plain: 'with master',
    payload: 'ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7DUx+nPLzcf044rZCRtn8CbBqpHz7oqYqPtOX',
  },
];
const GCM_KEY = 'c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7';
const GCM_VECTORS = [
  {
    ad: '',
    plain: 'legacy',
    payload: '000102030405060708090a0b3211e672efa2f95ae2d19e4f81474c1ced1a67255aba',
  },
  {
    ad: 'user2',
    plain: 'legacy with ad',
    payload: '000102030405060708090a0b862476bf21e2ad2b10595fc48f59f51c60839508605dc640432358705fd8',
  },
];

void describe('kms: upstream-compatible vectors', () => {
  void it('decrypts Secretbox secrets made by the upstream algorithm (mode 0 and mode 1)', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'master.key'), 'master-key-text\n');
    const withMaster = createKms(cfg('', 'master.key'), dir);
    const noMaster = createKms(cfg(), dir);
    for (const v of SECRETBOX_VECTORS) {
      const mode = v.master === '' ? 0 : 1;
      const s: Secret = {
        status: 'Secretbox',
        payload: v.payload,
        key: KEY,
        additional_data: v.ad,
        mode,
      };
      assert.equal(await withMaster.decrypt(s), v.plain);
      if (mode === 0) assert.equal(await noMaster.decrypt(s), v.plain);
      else await rejectsWith(noMaster.decrypt(s), 'INVALID_INPUT', /mode 1.*master_key_path/);
    }
  });

  void it('decrypts legacy AES-256-GCM secrets', async () => {
    const kms = createKms(cfg(), tmp());
    for (const v of GCM_VECTORS) {
      assert.equal(
        await kms.decrypt({
          status: 'AES-256-GCM',
          payload: v.payload,
          key: GCM_KEY,
          additional_data: v.ad,
        }),
        v.plain,
      );
    }
  });

  void it('rejects tampered ciphertext, wrong additional data and malformed fields', async () => {
    const kms = createKms(cfg(), tmp());
    const v = SECRETBOX_VECTORS[1];
    assert.ok(v);
    const good: Secret = {
      status: 'Secretbox',
      payload: v.payload,
      key: KEY,
      additional_data: v.ad,
    };
    await rejectsWith(
      kms.decrypt({ ...good, additional_data: 'user2' }),
      'INVALID_INPUT',
      /authentication failed/,
    );
    const bytes = Buffer.from(v.payload, 'base64');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    await rejectsWith(
      kms.decrypt({ ...good, payload: bytes.toString('base64') }),
      'INVALID_INPUT',
      /authentication failed/,
    );
    await rejectsWith(kms.decrypt({ ...good, key: 'zz' }), 'INVALID_INPUT', /not hex encoded/);
    await rejectsWith(kms.decrypt({ ...good, payload: 'AAAA' }), 'INVALID_INPUT', /too short/);
    await rejectsWith(kms.decrypt({ ...good, payload: '!!' }), 'INVALID_INPUT', /not base64/);
    const g = GCM_VECTORS[1];
    assert.ok(g);
    await rejectsWith(
      kms.decrypt({
        status: 'AES-256-GCM',
        payload: g.payload,
        key: GCM_KEY,
        additional_data: 'x',
      }),
      'INVALID_INPUT',
      /authentication failed/,
    );
  });
});

void describe('kms: encrypt', () => {
  void it('Plain -> Secretbox round trip, upstream shape (hex key of 64, base64 payload, mode 0 omitted)', async () => {
    const kms = createKms(cfg(), tmp());
    assert.equal(kms.provider, 'Local');
    const enc = await kms.encrypt(plainSecret('s3cr3t', 'alice'));
    assert.equal(enc.status, 'Secretbox');
    assert.match(enc.key ?? '', /^[0-9a-f]{64}$/);
    assert.equal(enc.additional_data, 'alice');
    assert.equal(enc.mode, undefined);
    const raw = Buffer.from(enc.payload ?? '', 'base64');
    assert.equal(raw.length, 24 + 16 + 's3cr3t'.length); // nonce + poly1305 tag + message
    assert.ok(isValidSecret(enc));
    assert.ok(kms.isEncrypted(enc));
    assert.equal(await kms.decrypt(enc), 's3cr3t');
    // a fresh key and nonce each time
    const again = await kms.encrypt(plainSecret('s3cr3t', 'alice'));
    assert.notEqual(again.payload, enc.payload);
    assert.notEqual(again.key, enc.key);
    // the additional data is bound to the ciphertext
    await assert.rejects(kms.decrypt({ ...enc, additional_data: 'bob' }));
  });

  void it('with a master key: mode 1, and decryptable by the low-level upstream algorithm', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'mk'), '  another master  \n');
    const kms = createKms(cfg('', join(dir, 'mk')), '/nonexistent');
    const enc = await kms.encrypt(plainSecret('pw'));
    assert.equal(enc.mode, 1);
    assert.equal(secretboxDecrypt(enc.payload ?? '', enc.key ?? '', '', 1, 'another master'), 'pw');
    assert.throws(
      () => secretboxDecrypt(enc.payload ?? '', enc.key ?? '', '', 0, ''),
      /authentication failed/,
    );
  });

  void it('refuses non-Plain statuses and empty payloads', async () => {
    const kms = createKms(cfg(), tmp());
    await rejectsWith(
      kms.encrypt({ status: 'Secretbox', payload: 'x', key: KEY }),
      'INVALID_INPUT',
      /wrong secret status/,
    );
    await rejectsWith(kms.encrypt({ status: 'Redacted' }), 'INVALID_INPUT', /wrong secret status/);
    await rejectsWith(
      kms.encrypt({ status: 'Plain', payload: '' }),
      'INVALID_INPUT',
      /payload is empty/,
    );
  });

  void it('remote KMS URLs are refused when the KMS is built; their secrets cannot be decrypted', async () => {
    for (const [url, provider] of [
      ['gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k', 'GCP'],
      ['awskms://alias/sftpgo?region=us-east-1', 'AWS'],
      ['hashivault://mykey', 'VaultTransit'],
    ] as const) {
      assert.throws(
        () => createKms(cfg(url), tmp()),
        (e: unknown) =>
          e instanceof SftpgoError &&
          e.code === 'OP_UNSUPPORTED' &&
          e.message.includes(`the ${provider} KMS (${url.split('://')[0]}://) is not supported`) &&
          !e.message.includes(url),
      );
    }
    const local = createKms(cfg(), tmp());
    for (const status of ['GCP', 'AWS', 'VaultTransit'] as const) {
      await rejectsWith(
        local.decrypt({ status, payload: 'abc' }),
        'OP_UNSUPPORTED',
        new RegExp(`${status} secret`),
      );
    }
  });

  void it('master key file problems are reported at creation', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'empty'), ' \n');
    assert.throws(() => createKms(cfg('', 'missing'), dir), /master_key_path: cannot read/);
    assert.throws(() => createKms(cfg('', 'empty'), dir), /is empty/);
  });
});

void describe('kms: decrypt of other statuses, redact', () => {
  void it('Plain gives its payload, empty gives "", Redacted is refused', async () => {
    const kms = createKms(cfg(), tmp());
    assert.equal(await kms.decrypt(plainSecret('p')), 'p');
    assert.equal(await kms.decrypt({}), '');
    assert.ok(isEmptySecret({ status: '', payload: '' }));
    await rejectsWith(
      kms.decrypt({ status: 'Redacted', payload: 'x' }),
      'INVALID_INPUT',
      /redacted/,
    );
    await rejectsWith(kms.decrypt({ payload: 'x' }), 'INVALID_INPUT', /missing status/);
    assert.equal(kms.isEncrypted(plainSecret('p')), false);
    assert.equal(kms.isEncrypted({ status: 'AES-256-GCM', payload: 'x' }), true);
  });

  void it('redact keeps status and payload, drops key and additional data, never shows plain text', async () => {
    const kms = createKms(cfg(), tmp());
    const enc = await kms.encrypt(plainSecret('topsecret', 'alice'));
    assert.deepEqual(kms.redact(enc), { status: 'Secretbox', payload: enc.payload });
    assert.deepEqual(kms.redact(plainSecret('topsecret')), { status: 'Redacted' });
    assert.deepEqual(kms.redact({}), {});
  });

  void it('legacy AES-GCM helper and decrypt agree', async () => {
    const kms = createKms(cfg(), tmp());
    const c = aesGcmEncrypt('old', 'ad');
    assert.equal(
      await kms.decrypt({
        status: 'AES-256-GCM',
        payload: c.payload,
        key: c.key,
        additional_data: 'ad',
      }),
      'old',
    );
  });
});
