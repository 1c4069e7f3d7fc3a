/**
 * One verdict per public key line, at save and at login: every line goes through the
 * dataprovider's validatePublicKeys (what the REST API, loaddata and the CLI run when a user is
 * saved) and through SshAuthenticator's publickey step (the client offers the key; the data
 * provider's checkUserPublicKey decides). A line accepted at save must match exactly its key at
 * login; a line refused at save (with a clear message) must match nothing at login, even if it
 * reached the database some other way.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Connection as SshClient, PublicKeyAuthContext } from 'ssh2';
import { checkUserPublicKey } from '../dataprovider/auth.js';
import type { User } from '../dataprovider/provider.js';
import { validatePublicKeys } from '../dataprovider/validation/user.js';
import { silentLogger } from '../logger/index.js';
import type { MountTable } from '../vfs/index.js';
import { fingerprintSha256, parseAuthorizedKey, wireString } from '../util/ssh-public-keys.js';
import { SshAuthenticator } from './auth.js';

const USERNAME = 'alice';

interface KeyFile {
  /** the .pub line as ssh-keygen wrote it (type, base64, comment) */
  line: string;
  type: string;
  b64: string;
  blob: Buffer;
}

function keyFromLine(line: string): KeyFile {
  const [type = '', b64 = ''] = line.trim().split(' ');
  return { line: line.trim(), type, b64, blob: Buffer.from(b64, 'base64') };
}

function keyFromBlob(blob: Buffer, comment = ''): KeyFile {
  const type = blob.subarray(4, 4 + blob.readUInt32BE(0)).toString();
  const b64 = blob.toString('base64');
  return { line: `${type} ${b64}${comment ? ` ${comment}` : ''}`, type, b64, blob };
}

/** FIDO keys cannot be made without an authenticator: build their public blobs by hand */
function skEd25519Blob(): Buffer {
  const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  return Buffer.concat([wireString('sk-ssh-ed25519@openssh.com'), wireString(Buffer.from(jwk.x ?? '', 'base64url')), wireString('ssh:')]);
}

function skEcdsaBlob(): Buffer {
  const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
  const q = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')]);
  return Buffer.concat([wireString('sk-ecdsa-sha2-nistp256@openssh.com'), wireString('nistp256'), wireString(q), wireString('ssh:')]);
}

/** Runs the publickey query (no signature yet) as ssh2 hands it over; true when accepted (PK_OK). */
async function offered(publicKeys: string[], blob: Buffer, trustedUserCAs: Buffer[]): Promise<boolean> {
  const user = { username: USERNAME, status: 1, home_dir: '/srv/alice', permissions: { '/': ['*'] }, public_keys: publicKeys, filters: {} } as unknown as User;
  const log = silentLogger();
  const auth = new SshAuthenticator(
    { authenticated: false, end: () => undefined } as unknown as SshClient,
    '127.0.0.1',
    { passwordAuthentication: true, maxAuthTries: Number.POSITIVE_INFINITY, trustedUserCAs, keyboardInteractiveHook: '' },
    {
      // the data provider's own key check, on this user
      provider: {
        authenticateUser: (a) => {
          checkUserPublicKey(user, a.publicKey ?? '');
          return Promise.resolve(user);
        },
      },
      registry: { countByUser: () => 0 },
      rootLogger: log,
      log,
      prepare: () => Promise.resolve({} as MountTable),
    },
  );
  const algo = blob.subarray(4, 4 + blob.readUInt32BE(0)).toString();
  return new Promise<boolean>((resolve) => {
    const ctx = {
      method: 'publickey',
      username: USERNAME,
      key: { algo, data: blob },
      accept: () => resolve(true),
      reject: () => resolve(false),
    } as unknown as PublicKeyAuthContext;
    auth.handle(ctx);
  });
}

/** the save verdict: the stored list, or the validation message */
function save(line: string): { ok: true; stored: string[] } | { ok: false; message: string } {
  try {
    return { ok: true, stored: validatePublicKeys([line]) };
  } catch (e) {
    return { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
}

interface Case {
  name: string;
  line: string;
  /** the key a client presents at login */
  presented: Buffer;
  /** expected save message (refused lines), matched as a regexp */
  refused?: RegExp;
  /** for accepted lines: comment and options the parser must report */
  comment?: string;
  options?: string[];
  /** other blobs that must not match this line at login */
  notMatching?: Buffer[];
}

void describe('public keys: one parser, the same verdict at save and at login', () => {
  let dir: string;
  const keys: Record<string, KeyFile> = {};
  let ca: KeyFile;
  let cert: KeyFile;
  let skCert: KeyFile;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sftpgo-pubkeys-'));
    const gen = (name: string, args: string[], comment = `${name}@test`): KeyFile => {
      const f = join(dir, name);
      execFileSync('ssh-keygen', ['-q', ...args, '-N', '', '-C', comment, '-f', f]);
      return keyFromLine(readFileSync(`${f}.pub`, 'utf8'));
    };
    keys['rsa'] = gen('rsa', ['-t', 'rsa', '-b', '2048']);
    keys['dsa'] = gen('dsa', ['-t', 'dsa']);
    keys['ecdsa256'] = gen('ecdsa256', ['-t', 'ecdsa', '-b', '256']);
    keys['ecdsa384'] = gen('ecdsa384', ['-t', 'ecdsa', '-b', '384']);
    keys['ecdsa521'] = gen('ecdsa521', ['-t', 'ecdsa', '-b', '521']);
    keys['ed25519'] = gen('ed25519', ['-t', 'ed25519'], 'a comment  with   spaces');
    keys['sk-ed25519'] = keyFromBlob(skEd25519Blob(), 'yubikey');
    keys['sk-ecdsa'] = keyFromBlob(skEcdsaBlob(), 'yubikey');
    ca = gen('ca', ['-t', 'ed25519']);
    execFileSync('ssh-keygen', ['-q', '-s', join(dir, 'ca'), '-I', 'id', '-n', USERNAME, join(dir, 'ed25519.pub')]);
    cert = keyFromLine(readFileSync(join(dir, 'ed25519-cert.pub'), 'utf8'));
    // ssh-keygen signs any public key, a FIDO one included
    execFileSync('sh', ['-c', `printf '%s\\n' "$1" > "$2"`, 'sh', keys['sk-ed25519'].line, join(dir, 'sk.pub')]);
    execFileSync('ssh-keygen', ['-q', '-s', join(dir, 'ca'), '-I', 'id', '-n', USERNAME, join(dir, 'sk.pub')]);
    skCert = keyFromLine(readFileSync(join(dir, 'sk-cert.pub'), 'utf8'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function cases(): Case[] {
    const k = (n: string): KeyFile => {
      const v = keys[n];
      assert.ok(v, n);
      return v;
    };
    const ed = k('ed25519');
    const rsa = k('rsa');
    const truncated = ed.blob.subarray(0, ed.blob.length - 10);
    const trailing = Buffer.concat([ed.blob, Buffer.from([1, 2, 3])]);
    const shortEd = Buffer.concat([wireString('ssh-ed25519'), wireString(Buffer.alloc(31, 7))]);
    const wrongCurve = (() => {
      const b = k('ecdsa256').blob;
      // same point, declared curve name of another type
      const r = Buffer.from(b);
      r.write('nistp384', 4 + 'ecdsa-sha2-nistp256'.length + 4);
      return r;
    })();
    const out: Case[] = [];
    for (const name of Object.keys(keys)) {
      const key = k(name);
      out.push({ name: `${key.type} as ssh-keygen writes it`, line: key.line, presented: key.blob });
      out.push({ name: `${key.type} without comment`, line: `${key.type} ${key.b64}`, presented: key.blob, comment: '' });
    }
    out.push(
      { name: 'comment with spaces', line: ed.line, presented: ed.blob, comment: 'a comment  with   spaces' },
      { name: 'certificate', line: cert.line, presented: cert.blob, notMatching: [ed.blob] },
      { name: 'certificate of a FIDO key', line: skCert.line, presented: skCert.blob },
      {
        name: 'from= option',
        line: `from="10.0.0.0/8,192.168.1.1" ${ed.type} ${ed.b64} me@host`,
        presented: ed.blob,
        comment: 'me@host',
        options: ['from="10.0.0.0/8,192.168.1.1"'],
      },
      {
        name: 'command= with escaped quotes and spaces',
        line: `command="echo \\"hi there\\"" ${ed.type} ${ed.b64} me`,
        presented: ed.blob,
        options: ['command="echo \\"hi there\\""'],
      },
      {
        name: 'several flag options',
        line: `no-port-forwarding,no-pty ${rsa.type} ${rsa.b64}`,
        presented: rsa.blob,
        options: ['no-port-forwarding', 'no-pty'],
      },
      {
        // the old login parser took the first token that looked like a key type, inside quotes too
        name: 'a quoted option value holding another key',
        line: `command="ssh-rsa ${rsa.b64}",no-pty ${ed.type} ${ed.b64}`,
        presented: ed.blob,
        notMatching: [rsa.blob],
        options: [`command="ssh-rsa ${rsa.b64}"`, 'no-pty'],
      },
      { name: 'trailing whitespace', line: `${ed.type} ${ed.b64}  \t `, presented: ed.blob, comment: '' },
      { name: 'CRLF line end', line: `${ed.line}\r\n`, presented: ed.blob, comment: 'a comment  with   spaces' },
      { name: 'leading spaces and tabs between fields', line: `  ${ed.type}\t${ed.b64}\tc`, presented: ed.blob, comment: 'c' },

      { name: 'whitespace only', line: '  \t', presented: ed.blob, refused: /empty key/ },
      { name: 'bad base64', line: `${ed.type} AAAA!!!!${ed.b64}`, presented: ed.blob, refused: /not valid base64/ },
      { name: 'base64 of a wrong length', line: `${ed.type} ${ed.b64}x`, presented: ed.blob, refused: /not valid base64/ },
      { name: 'truncated blob', line: `${ed.type} ${truncated.toString('base64')}`, presented: truncated, refused: /truncated/ },
      { name: 'trailing data in the blob', line: `${ed.type} ${trailing.toString('base64')}`, presented: trailing, refused: /trailing data/ },
      { name: 'declared type differs from the blob', line: `ssh-rsa ${ed.b64}`, presented: ed.blob, refused: /key type mismatch: the line says "ssh-rsa", its key data is "ssh-ed25519"/ },
      { name: 'ed25519 key of 31 bytes', line: `ssh-ed25519 ${shortEd.toString('base64')}`, presented: shortEd, refused: /32 bytes/ },
      { name: 'ecdsa curve of another type', line: `ecdsa-sha2-nistp256 ${wrongCurve.toString('base64')}`, presented: wrongCurve, refused: /curve "nistp384" does not match/ },
      { name: 'options only', line: 'no-pty,from="1.2.3.4"', presented: ed.blob, refused: /options without a key/ },
      { name: 'type only', line: 'ssh-ed25519', presented: ed.blob, refused: /missing key data/ },
      { name: 'unterminated quoted option', line: `command="echo hi ${ed.type} ${ed.b64}`, presented: ed.blob, refused: /unterminated quoted value/ },
      { name: 'unquoted option value', line: `from=1.2.3.4 ${ed.type} ${ed.b64}`, presented: ed.blob, refused: /must be in double quotes/ },
      { name: 'unsupported key type', line: `ssh-foo ${ed.b64}`, presented: ed.blob, refused: /unsupported key type "ssh-foo"/ },
      { name: 'commented-out key', line: `# ${ed.line}`, presented: ed.blob, refused: /comment line is not a key/ },
      { name: 'two keys in one entry', line: `${ed.line}\n${rsa.line}`, presented: ed.blob, refused: /single line/ },
      {
        name: 'private key',
        line: readFileSync(join(dir, 'ed25519'), 'utf8'),
        presented: ed.blob,
        refused: /a private key was given/,
      },
    );
    return out;
  }

  void it('gives every line the same verdict at save and at login', async () => {
    const caBlob = ca.blob;
    for (const c of cases()) {
      const saved = save(c.line);
      if (c.refused) {
        assert.ok(!saved.ok, `${c.name}: accepted at save`);
        assert.match(saved.message, /^could not parse key nr\. 1: /, c.name);
        assert.match(saved.message, c.refused, c.name);
        // as if the line had reached the database without validation (old row, hand-edited dump)
        assert.equal(await offered([c.line], c.presented, [caBlob]), false, `${c.name}: matched at login`);
        continue;
      }
      assert.ok(saved.ok, `${c.name}: refused at save: ${saved.ok ? '' : saved.message}`);
      assert.deepEqual(saved.stored, [c.line], `${c.name}: stored as given`);
      assert.equal(await offered(saved.stored, c.presented, [caBlob]), true, `${c.name}: not matched at login`);
      for (const other of c.notMatching ?? []) {
        assert.equal(await offered(saved.stored, other, [caBlob]), false, `${c.name}: matched another key`);
      }
      const parsed = parseAuthorizedKey(c.line);
      assert.ok(parsed.ok, c.name);
      if (c.comment !== undefined) assert.equal(parsed.key.comment, c.comment, c.name);
      assert.deepEqual(parsed.key.options, c.options ?? [], c.name);
    }
  });

  void it('fingerprints like ssh-keygen -l', () => {
    const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'ed25519.pub')], { encoding: 'utf8' });
    const ed = keys['ed25519'];
    assert.ok(ed);
    assert.equal(out.split(' ')[1], fingerprintSha256(ed.blob));
  });

  void it('drops empty entries at save, as upstream', () => {
    assert.deepEqual(save(''), { ok: true, stored: [] });
    const r = parseAuthorizedKey('');
    assert.equal(r.ok, false);
  });
});
