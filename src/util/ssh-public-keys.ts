/**
 * SSH public keys as admins store them and clients present them: OpenSSH authorized_keys lines
 * and the wire-format key blobs inside them (RFC 4253 §6.6, RFC 5656, RFC 8709, OpenSSH
 * PROTOCOL.certkeys and PROTOCOL.u2f).
 *
 * This is the only parser of stored public keys. Dataprovider validation runs it when a user is
 * saved and sftpd runs it when the user logs in, so a line accepted at save decodes to exactly
 * the key blob that login compares with the client's (never the text), and a line refused at
 * save can never match at login.
 *
 * Accepted key types are those SFTPGo 2.1.2 accepts through golang.org/x/crypto/ssh: ssh-rsa,
 * ssh-dss, ecdsa-sha2-nistp256/384/521, ssh-ed25519, the FIDO sk-ecdsa-sha2-nistp256@openssh.com
 * and sk-ssh-ed25519@openssh.com, and their -cert-v01@openssh.com certificates (2.1.2 wants a
 * user certificate itself listed in public_keys). Unlike x/crypto, the declared type must equal
 * the blob's own type, as OpenSSH's sshd requires; a line whose text says one thing and whose
 * blob says another is refused.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

// ---------------------------------------------------------------------------------------------
// wire format

/** what WireReader throws when a value runs past the end of its buffer */
export class SshDataTruncatedError extends Error {
  constructor() {
    super('malformed SSH data: truncated');
    this.name = 'SshDataTruncatedError';
  }
}

/** Reader of SSH wire-format values; every read throws SshDataTruncatedError on truncated input. */
export class WireReader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  get offset(): number {
    return this.pos;
  }

  remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new SshDataTruncatedError();
  }

  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  bytes(): Buffer {
    const len = this.uint32();
    this.need(len);
    const v = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return v;
  }

  string(): string {
    return this.bytes().toString('utf8');
  }
}

export function wireString(v: Buffer | string): Buffer {
  const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32BE(b.length, 0);
  return Buffer.concat([len, b]);
}

/** "SHA256:<base64 without padding>" of a key blob, as `ssh-keygen -l` prints it. */
export function fingerprintSha256(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

// ---------------------------------------------------------------------------------------------
// key types

/** plain (non-certificate) key types accepted in public_keys */
export const PLAIN_KEY_TYPES = [
  'ssh-rsa',
  'ssh-dss',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-ed25519',
  'sk-ecdsa-sha2-nistp256@openssh.com',
  'sk-ssh-ed25519@openssh.com',
] as const;

const CERT_SUFFIX = '-cert-v01@openssh.com';
const PLAIN = new Set<string>(PLAIN_KEY_TYPES);

export function isCertificateAlgo(algo: string): boolean {
  return algo.endsWith(CERT_SUFFIX);
}

/**
 * The certified key type of a certificate type name
 * ('ssh-ed25519-cert-v01@openssh.com' -> 'ssh-ed25519',
 * 'sk-ssh-ed25519-cert-v01@openssh.com' -> 'sk-ssh-ed25519@openssh.com'), or undefined.
 */
export function certifiedKeyType(certType: string): string | undefined {
  if (!isCertificateAlgo(certType)) return undefined;
  const stem = certType.slice(0, -CERT_SUFFIX.length);
  const base = stem.startsWith('sk-') ? `${stem}@openssh.com` : stem;
  return PLAIN.has(base) ? base : undefined;
}

/** true for every type name accepted in public_keys, certificates included */
export function isSupportedKeyType(type: string): boolean {
  return PLAIN.has(type) || certifiedKeyType(type) !== undefined;
}

// ---------------------------------------------------------------------------------------------
// key blobs

const EC_CURVES: Record<string, { crv: string; size: number; hash: string }> = {
  nistp256: { crv: 'P-256', size: 32, hash: 'sha256' },
  nistp384: { crv: 'P-384', size: 48, hash: 'sha384' },
  nistp521: { crv: 'P-521', size: 66, hash: 'sha512' },
};

/** curve parameters of an ecdsa-sha2-* (or sk-ecdsa-sha2-*) key type, or undefined */
export function ecCurveOf(type: string): { crv: string; size: number; hash: string } | undefined {
  const m = /^(?:sk-)?ecdsa-sha2-(nistp\d+)(?:@openssh\.com)?$/.exec(type);
  return m?.[1] === undefined ? undefined : EC_CURVES[m[1]];
}

function stripMpint(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

const b64url = (b: Buffer): string => b.toString('base64url');

/** The plain key of a blob: its type, its wire blob and, when we can verify its signatures, a node KeyObject. */
export interface PublicKeyInfo {
  /** 'ssh-rsa' | 'ssh-ed25519' | 'ecdsa-sha2-nistp256' | ... */
  type: string;
  /**
   * the key for signature checks; null for types stored and matched but whose signatures this
   * server cannot check (ssh-dss and the FIDO sk-* types)
   */
  key: KeyObject | null;
  /** the wire blob of the plain key */
  blob: Buffer;
}

/** node:crypto throws its own messages for bad key material: say which key it was */
function keyObject(type: string, jwk: Record<string, string>): KeyObject {
  try {
    return createPublicKey({ key: jwk, format: 'jwk' });
  } catch (e) {
    throw new Error(`invalid ${type} key: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

function ecKey(type: string, curveName: string, q: Buffer): KeyObject {
  const curve = EC_CURVES[curveName];
  if (curve === undefined || ecCurveOf(type) !== curve) {
    throw new Error(`invalid ${type} key: curve ${JSON.stringify(curveName)} does not match the key type`);
  }
  // uncompressed points only, as OpenSSH writes them
  if (q[0] !== 4 || q.length !== 1 + 2 * curve.size) throw new Error(`invalid ${type} key: unsupported point encoding`);
  return keyObject(type, {
    kty: 'EC',
    crv: curve.crv,
    x: b64url(q.subarray(1, 1 + curve.size)),
    y: b64url(q.subarray(1 + curve.size)),
  });
}

function ed25519Key(type: string, pk: Buffer): KeyObject {
  if (pk.length !== 32) throw new Error(`invalid ${type} key: ed25519 keys are 32 bytes, got ${pk.length}`);
  return keyObject(type, { kty: 'OKP', crv: 'Ed25519', x: b64url(pk) });
}

function nonEmpty(type: string, what: string, b: Buffer): Buffer {
  if (b.length === 0) throw new Error(`invalid ${type} key: empty ${what}`);
  return b;
}

/**
 * Reads the fields of a plain key of `type` that follow its type name (or, in a certificate,
 * its nonce) and checks the key material (point on the curve, key sizes).
 */
function readKeyFields(type: string, r: WireReader): PublicKeyInfo {
  const head = wireString(type);
  switch (type) {
    case 'ssh-rsa': {
      const e = nonEmpty(type, 'exponent', r.bytes());
      const n = nonEmpty(type, 'modulus', r.bytes());
      const key = keyObject(type, { kty: 'RSA', n: b64url(stripMpint(n)), e: b64url(stripMpint(e)) });
      return { type, key, blob: Buffer.concat([head, wireString(e), wireString(n)]) };
    }
    case 'ssh-dss': {
      const parts = ['p', 'q', 'g', 'y'].map((what) => nonEmpty(type, what, r.bytes()));
      return { type, key: null, blob: Buffer.concat([head, ...parts.map((p) => wireString(p))]) };
    }
    case 'ssh-ed25519': {
      const pk = r.bytes();
      const key = ed25519Key(type, pk);
      return { type, key, blob: Buffer.concat([head, wireString(pk)]) };
    }
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521': {
      const curveName = r.string();
      const q = r.bytes();
      const key = ecKey(type, curveName, q);
      return { type, key, blob: Buffer.concat([head, wireString(curveName), wireString(q)]) };
    }
    case 'sk-ecdsa-sha2-nistp256@openssh.com': {
      const curveName = r.string();
      const q = r.bytes();
      const application = r.bytes();
      ecKey(type, curveName, q);
      return { type, key: null, blob: Buffer.concat([head, wireString(curveName), wireString(q), wireString(application)]) };
    }
    case 'sk-ssh-ed25519@openssh.com': {
      const pk = r.bytes();
      const application = r.bytes();
      ed25519Key(type, pk);
      return { type, key: null, blob: Buffer.concat([head, wireString(pk), wireString(application)]) };
    }
    default:
      throw new Error(`unsupported key type ${JSON.stringify(type)}`);
  }
}

function noTrailingData(r: WireReader, type: string): void {
  if (r.remaining() !== 0) throw new Error(`invalid ${type} key: ${r.remaining()} bytes of trailing data`);
}

/** Parses a plain (non-certificate) public key blob. Throws on anything else. */
export function parsePublicKeyBlob(blob: Buffer): PublicKeyInfo {
  const r = new WireReader(blob);
  const type = r.string();
  if (isCertificateAlgo(type)) throw new Error(`a certificate (${type}) where a plain key is required`);
  const info = readKeyFields(type, r);
  noTrailingData(r, type);
  return info;
}

// ---------------------------------------------------------------------------------------------
// certificates

export interface SshCertificate {
  /** e.g. 'ssh-ed25519-cert-v01@openssh.com' */
  type: string;
  /** the certified plain key */
  publicKey: PublicKeyInfo;
  serial: bigint;
  certType: number;
  keyId: string;
  principals: string[];
  validAfter: bigint;
  validBefore: bigint;
  criticalOptions: Map<string, string>;
  extensions: Map<string, string>;
  /** the CA public key blob */
  signatureKey: Buffer;
  /** the signature blob in SSH wire format */
  signature: Buffer;
  /** bytes covered by the signature */
  signedData: Buffer;
}

/** Reads a list of `string name, string data` pairs; `data`, when not empty, wraps one string. */
function readOptions(buf: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  const r = new WireReader(buf);
  while (r.remaining() > 0) {
    const name = r.string();
    const data = r.bytes();
    out.set(name, data.length === 0 ? '' : new WireReader(data).string());
  }
  return out;
}

/**
 * Parses an OpenSSH v01 certificate blob. Throws on malformed or unsupported input.
 * Checks the structure only: whether to trust it is sftpd's checkUserCertificate.
 */
export function parseCertificate(blob: Buffer): SshCertificate {
  const r = new WireReader(blob);
  const type = r.string();
  const baseType = certifiedKeyType(type);
  if (baseType === undefined) throw new Error(`not a supported certificate type: ${JSON.stringify(type)}`);
  r.bytes(); // nonce
  const publicKey = readKeyFields(baseType, r);
  const serial = r.uint64();
  const certType = r.uint32();
  const keyId = r.string();
  const principalsBuf = r.bytes();
  const validAfter = r.uint64();
  const validBefore = r.uint64();
  const critical = r.bytes();
  const extensions = r.bytes();
  r.bytes(); // reserved
  const signatureKey = r.bytes();
  const signedData = blob.subarray(0, r.offset);
  const signature = r.bytes();
  noTrailingData(r, type);
  const principals: string[] = [];
  const pr = new WireReader(principalsBuf);
  while (pr.remaining() > 0) principals.push(pr.string());
  return {
    type,
    publicKey,
    serial,
    certType,
    keyId,
    principals,
    validAfter,
    validBefore,
    criticalOptions: readOptions(critical),
    extensions: readOptions(extensions),
    signatureKey,
    signature,
    signedData,
  };
}

/** Checks that `blob` is a well-formed key or certificate of a supported type; throws otherwise. */
function checkKeyBlob(blob: Buffer): void {
  const type = new WireReader(blob).string();
  if (isCertificateAlgo(type)) parseCertificate(blob);
  else parsePublicKeyBlob(blob);
}

// ---------------------------------------------------------------------------------------------
// authorized_keys lines

export interface AuthorizedKey {
  /** key type, as declared in the line and inside the blob */
  type: string;
  /** the decoded key blob: what login compares with the key the client presents */
  blob: Buffer;
  /** the text after the key, '' when none */
  comment: string;
  /**
   * the options prefix split at its top-level commas, as written (`from="10.0.0.0/8"`, `no-pty`).
   * Stored and returned as given; like SFTPGo 2.1.2, sftpd does not enforce them.
   */
  options: string[];
}

export type AuthorizedKeyResult = { ok: true; key: AuthorizedKey } | { ok: false; error: string };

const WS = /[ \t]/;
const OPTION_NAME = /[A-Za-z0-9_-]/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function clip(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

/** index of the first space/tab at or after `from`, or s.length */
function tokenEnd(s: string, from: number): number {
  let i = from;
  while (i < s.length && !WS.test(s.charAt(i))) i++;
  return i;
}

function skipSpaces(s: string, from: number): number {
  let i = from;
  while (i < s.length && WS.test(s.charAt(i))) i++;
  return i;
}

/**
 * Reads the options prefix (OpenSSH sshd(8) AUTHORIZED_KEYS FILE FORMAT): comma-separated
 * `name` or `name="value"`, where a value may hold spaces, commas and `\"`. Ends at the first
 * space or tab outside quotes. Returns the options and the index after them.
 */
function readOptionsPrefix(s: string): { options: string[]; end: number } | { error: string } {
  const options: string[] = [];
  let i = 0;
  for (;;) {
    const start = i;
    while (i < s.length && OPTION_NAME.test(s.charAt(i))) i++;
    if (i === start) return { error: `malformed options near ${clip(s.slice(start))}` };
    if (s.charAt(i) === '=') {
      i++;
      if (s.charAt(i) !== '"') return { error: `option ${clip(s.slice(start, i - 1))}: the value must be in double quotes` };
      i++;
      while (i < s.length && s.charAt(i) !== '"') i += s.charAt(i) === '\\' && s.charAt(i + 1) === '"' ? 2 : 1;
      if (i >= s.length) return { error: `option ${clip(s.slice(start))}: unterminated quoted value` };
      i++; // closing quote
    }
    options.push(s.slice(start, i));
    if (s.charAt(i) === ',') {
      i++;
      continue;
    }
    if (i === s.length || WS.test(s.charAt(i))) return { options, end: i };
    return { error: `malformed options near ${clip(s.slice(start))}` };
  }
}

/**
 * Parses one public key in authorized_keys format: `[options] type base64 [comment]`.
 * Surrounding whitespace (a trailing CR included) is ignored; anything else that is not exactly
 * one supported, well-formed key gives `{ ok: false, error }` with a message for the admin.
 */
export function parseAuthorizedKey(line: string): AuthorizedKeyResult {
  const fail = (error: string): AuthorizedKeyResult => ({ ok: false, error });
  const s = line.trim();
  if (s === '') return fail('empty key');
  if (/PRIVATE KEY-----/.test(s)) return fail('a private key was given, a public key is required');
  if (/[\r\n]/.test(s)) return fail('a key must be on a single line');
  if (s.startsWith('#')) return fail('a comment line is not a key');

  let options: string[] = [];
  let i = 0;
  const first = s.slice(0, tokenEnd(s, 0));
  if (!isSupportedKeyType(first)) {
    // names like "ssh-foo" are an unsupported type, not an option
    if (/^(?:ssh-|ecdsa-|sk-)[^=,"]*$/.test(first)) return fail(`unsupported key type ${clip(first)}`);
    const o = readOptionsPrefix(s);
    if ('error' in o) return fail(o.error);
    options = o.options;
    i = skipSpaces(s, o.end);
    if (i === s.length) return fail('options without a key');
  }

  const typeEnd = tokenEnd(s, i);
  const type = s.slice(i, typeEnd);
  if (!isSupportedKeyType(type)) return fail(`unsupported key type ${clip(type)}`);
  i = skipSpaces(s, typeEnd);
  const dataEnd = tokenEnd(s, i);
  const b64 = s.slice(i, dataEnd);
  if (b64 === '') return fail(`missing key data after ${type}`);
  const blob = Buffer.from(b64, 'base64');
  // Buffer.from skips bad characters and missing padding: require canonical base64
  if (!BASE64.test(b64) || b64.length % 4 !== 0 || blob.toString('base64') !== b64) {
    return fail(`the key data of ${type} is not valid base64`);
  }
  try {
    const inner = new WireReader(blob).string();
    if (inner !== type) return fail(`key type mismatch: the line says ${clip(type)}, its key data is ${clip(inner)}`);
    checkKeyBlob(blob);
  } catch (e) {
    if (e instanceof SshDataTruncatedError) return fail(`the key data of ${type} is truncated`);
    // readKeyFields/parseCertificate throw plain Errors whose message names the problem
    if (e instanceof Error) return fail(e.message);
    throw e;
  }
  return { ok: true, key: { type, blob, comment: s.slice(skipSpaces(s, dataEnd)), options } };
}

/** true when `line` parses and holds exactly the key blob `blob` (what login asks) */
export function authorizedKeyMatches(line: string, blob: Buffer): boolean {
  const r = parseAuthorizedKey(line);
  return r.ok && r.key.blob.equals(blob);
}
