/**
 * SSH public keys, signatures and OpenSSH user certificates in the SSH wire format
 * (RFC 4253 §6.6, RFC 5656, RFC 8709, OpenSSH PROTOCOL.certkeys), verified with node:crypto.
 *
 * ssh2 verifies plain-key signatures itself but knows nothing about certificates, so
 * certificate parsing, CA checks and signature verification live here. Mirrors
 * golang.org/x/crypto/ssh CertChecker as used by sftpd/server.go at v2.1.2.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

/** Reader of SSH wire-format values; every read throws on truncated input. */
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
    if (this.pos + n > this.buf.length) throw new Error('malformed SSH data: truncated');
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
// authorized_keys lines

const KEY_TYPE_RE =
  /^(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp(?:256|384|521)|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)(?:-cert-v0[01]@openssh\.com)?$/;

export interface AuthorizedKey {
  /** key type as written in the line (the blob's own type name) */
  type: string;
  blob: Buffer;
  comment: string;
}

/**
 * Parses one OpenSSH authorized_keys line (`[options] type base64 [comment]`).
 * Returns null for lines that do not hold a key.
 */
export function parseAuthorizedKey(line: string): AuthorizedKey | null {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return null;
  const parts = trimmed.split(/\s+/);
  for (let i = 0; i < parts.length - 1; i++) {
    const type = parts[i] ?? '';
    if (!KEY_TYPE_RE.test(type)) continue;
    const b64 = parts[i + 1] ?? '';
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return null;
    const blob = Buffer.from(b64, 'base64');
    try {
      const inner = new WireReader(blob).string();
      if (inner !== type) return null;
    } catch {
      return null; // truncated blob: not a key line
    }
    return { type, blob, comment: parts.slice(i + 2).join(' ') };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// public key blobs -> node KeyObject

const EC_CURVES: Record<string, { crv: string; size: number; hash: string }> = {
  nistp256: { crv: 'P-256', size: 32, hash: 'sha256' },
  nistp384: { crv: 'P-384', size: 48, hash: 'sha384' },
  nistp521: { crv: 'P-521', size: 66, hash: 'sha512' },
};

function stripMpint(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

function padTo(b: Buffer, size: number): Buffer {
  const s = stripMpint(b);
  if (s.length > size) throw new Error('malformed SSH data: integer too large');
  if (s.length === size) return s;
  return Buffer.concat([Buffer.alloc(size - s.length), s]);
}

const b64url = (b: Buffer): string => b.toString('base64url');

/** The plain key of a parsed blob: its algorithm family and a node KeyObject. */
export interface PublicKeyInfo {
  /** 'ssh-rsa' | 'ssh-ed25519' | 'ecdsa-sha2-nistp256' | ... */
  type: string;
  key: KeyObject;
  /** the canonical wire blob of the plain key */
  blob: Buffer;
}

/** Reads the key fields that follow the type name (or the nonce, for a certificate). */
function readKeyFields(type: string, r: WireReader): { key: KeyObject; blob: Buffer } {
  switch (type) {
    case 'ssh-rsa': {
      const e = r.bytes();
      const n = r.bytes();
      const key = createPublicKey({
        key: { kty: 'RSA', n: b64url(stripMpint(n)), e: b64url(stripMpint(e)) },
        format: 'jwk',
      });
      return { key, blob: Buffer.concat([wireString(type), wireString(e), wireString(n)]) };
    }
    case 'ssh-ed25519': {
      const pk = r.bytes();
      if (pk.length !== 32) throw new Error('malformed ed25519 key');
      const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(pk) }, format: 'jwk' });
      return { key, blob: Buffer.concat([wireString(type), wireString(pk)]) };
    }
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521': {
      const curveName = r.string();
      const q = r.bytes();
      const curve = EC_CURVES[curveName];
      if (!curve || `ecdsa-sha2-${curveName}` !== type) throw new Error('malformed ecdsa key');
      if (q[0] !== 4 || q.length !== 1 + 2 * curve.size) throw new Error('unsupported ecdsa point');
      const key = createPublicKey({
        key: {
          kty: 'EC',
          crv: curve.crv,
          x: b64url(q.subarray(1, 1 + curve.size)),
          y: b64url(q.subarray(1 + curve.size)),
        },
        format: 'jwk',
      });
      return { key, blob: Buffer.concat([wireString(type), wireString(curveName), wireString(q)]) };
    }
    default:
      throw new Error(`unsupported key type ${type}`);
  }
}

/** Parses a plain (non-certificate) public key blob. Throws on anything else. */
export function parsePublicKeyBlob(blob: Buffer): PublicKeyInfo {
  const r = new WireReader(blob);
  const type = r.string();
  const { key, blob: canonical } = readKeyFields(type, r);
  return { type, key, blob: canonical };
}

// ---------------------------------------------------------------------------------------------
// signatures

/** Hash used with an SSH signature algorithm name, or null for EdDSA. */
function sigHash(sigAlgo: string): string | null {
  switch (sigAlgo) {
    case 'ssh-rsa':
      return 'sha1';
    case 'rsa-sha2-256':
      return 'sha256';
    case 'rsa-sha2-512':
      return 'sha512';
    case 'ssh-ed25519':
      return null;
    case 'ecdsa-sha2-nistp256':
      return 'sha256';
    case 'ecdsa-sha2-nistp384':
      return 'sha384';
    case 'ecdsa-sha2-nistp521':
      return 'sha512';
    default:
      throw new Error(`unsupported signature algorithm ${sigAlgo}`);
  }
}

/** The key family a signature algorithm belongs to ('rsa-sha2-256' -> 'ssh-rsa'). */
function sigKeyType(sigAlgo: string): string {
  return sigAlgo.startsWith('rsa-sha2-') ? 'ssh-rsa' : sigAlgo;
}

/**
 * Verifies a signature in SSH wire format (`string algo, string sig`) made by `pub` over `data`.
 * Returns false for a bad signature, throws for malformed input.
 */
export function verifySshSignature(pub: PublicKeyInfo, data: Buffer, signature: Buffer): boolean {
  const r = new WireReader(signature);
  const algo = r.string();
  const raw = r.bytes();
  if (sigKeyType(algo) !== pub.type) return false;
  const hash = sigHash(algo);
  if (pub.type.startsWith('ecdsa-sha2-')) {
    const curve = EC_CURVES[pub.type.slice('ecdsa-sha2-'.length)];
    if (!curve) return false;
    const sr = new WireReader(raw);
    const rr = sr.bytes();
    const ss = sr.bytes();
    const p1363 = Buffer.concat([padTo(rr, curve.size), padTo(ss, curve.size)]);
    return verify(hash, data, { key: pub.key, dsaEncoding: 'ieee-p1363' }, p1363);
  }
  return verify(hash, data, pub.key, raw);
}

/**
 * Verifies a plain-key signature as ssh2 hands it to the server: RSA/EdDSA raw bytes,
 * ECDSA already converted to ASN.1 DER; `hashAlgo` is set by ssh2 only for rsa-sha2-*.
 */
export function verifyPlainSignature(
  pub: PublicKeyInfo,
  data: Buffer,
  signature: Buffer,
  hashAlgo: string | undefined,
): boolean {
  switch (pub.type) {
    case 'ssh-rsa':
      return verify(hashAlgo ?? 'sha1', data, pub.key, signature);
    case 'ssh-ed25519':
      return verify(null, data, pub.key, signature);
    default: {
      const curve = EC_CURVES[pub.type.slice('ecdsa-sha2-'.length)];
      if (!curve) return false;
      return verify(curve.hash, data, { key: pub.key, dsaEncoding: 'der' }, signature);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// certificates

export const CERT_TYPE_USER = 1;
export const CERT_TYPE_HOST = 2;
/** valid_before value meaning "forever" */
export const CERT_TIME_INFINITY = 0xffffffffffffffffn;

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

export function isCertificateAlgo(algo: string): boolean {
  return algo.endsWith('-cert-v01@openssh.com');
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

/** Parses an OpenSSH v01 certificate blob. Throws on malformed or unsupported input. */
export function parseCertificate(blob: Buffer): SshCertificate {
  const r = new WireReader(blob);
  const type = r.string();
  if (!isCertificateAlgo(type)) throw new Error(`not a certificate: ${type}`);
  const baseType = type.slice(0, -'-cert-v01@openssh.com'.length);
  r.bytes(); // nonce
  const { key, blob: plainBlob } = readKeyFields(baseType, r);
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
  const principals: string[] = [];
  const pr = new WireReader(principalsBuf);
  while (pr.remaining() > 0) principals.push(pr.string());
  return {
    type,
    publicKey: { type: baseType, key, blob: plainBlob },
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

function ipInCidr(ip: string, cidr: string): boolean {
  const slash = cidr.indexOf('/');
  const net = slash < 0 ? cidr : cidr.slice(0, slash);
  const fam = isIP(net);
  if (fam === 0 || isIP(ip) !== fam) {
    // an IPv4 client seen as ::ffff:a.b.c.d
    if (fam === 4 && ip.startsWith('::ffff:')) return ipInCidr(ip.slice(7), cidr);
    return false;
  }
  const bits = slash < 0 ? (fam === 4 ? 32 : 128) : Number(cidr.slice(slash + 1));
  const toBig = (a: string): bigint => {
    if (fam === 4) return a.split('.').reduce((acc, p) => (acc << 8n) + BigInt(Number(p)), 0n);
    const [head = '', tail = ''] = a.includes('::') ? a.split('::') : [a, ''];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
    return groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g || '0', 16)), 0n);
  };
  const width = fam === 4 ? 32n : 128n;
  const shift = width - BigInt(bits);
  return toBig(ip) >> shift === toBig(net) >> shift;
}

export interface CertCheckOptions {
  username: string;
  remoteIp: string;
  /** trusted CA public key blobs */
  trustedCAs: readonly Buffer[];
  /** seconds since epoch; defaults to now */
  now?: number;
}

/**
 * Checks a user certificate as golang.org/x/crypto/ssh CertChecker does for SFTPGo 2.1.2:
 * user type, trusted CA, principal, validity window, supported critical options
 * (source-address only) and the CA signature. Throws an Error describing the first failure.
 */
export function checkUserCertificate(cert: SshCertificate, o: CertCheckOptions): void {
  if (cert.certType !== CERT_TYPE_USER) throw new Error(`ssh: cert has type ${cert.certType}`);
  if (!o.trustedCAs.some((ca) => ca.equals(cert.signatureKey))) {
    throw new Error('ssh: certificate signed by unrecognized authority');
  }
  if (cert.principals.length === 0) {
    throw new Error(`ssh: certificate ${fingerprintSha256(cert.publicKey.blob)} has no valid principals`);
  }
  if (!cert.principals.includes(o.username)) {
    throw new Error(`ssh: principal "${o.username}" not in the set of valid principals for given certificate`);
  }
  for (const [name, value] of cert.criticalOptions) {
    if (name !== 'source-address') throw new Error(`ssh: unsupported critical option "${name}" in certificate`);
    const allowed = value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (!allowed.some((c) => ipInCidr(o.remoteIp, c))) {
      throw new Error(`ssh: source address ${o.remoteIp} is not allowed by the certificate`);
    }
  }
  const now = BigInt(Math.floor(o.now ?? Date.now() / 1000));
  if (now < cert.validAfter) throw new Error('ssh: cert is not yet valid');
  if (cert.validBefore !== CERT_TIME_INFINITY && now >= cert.validBefore) throw new Error('ssh: cert has expired');
  const ca = parsePublicKeyBlob(cert.signatureKey);
  if (!verifySshSignature(ca, cert.signedData, cert.signature)) {
    throw new Error('ssh: certificate signature does not verify');
  }
}
