/**
 * SSH signatures and OpenSSH user certificate checks (RFC 4253 §6.6, RFC 5656, RFC 8709,
 * OpenSSH PROTOCOL.certkeys), verified with node:crypto.
 *
 * ssh2 verifies plain-key signatures itself but knows nothing about certificates, so
 * certificate CA checks and signature verification live here. Mirrors
 * golang.org/x/crypto/ssh CertChecker as used by sftpd/server.go at v2.1.2. Parsing keys,
 * certificates and authorized_keys lines is src/util/ssh-public-keys.ts, shared with the
 * dataprovider's validation so that save and login agree.
 */
import { verify, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import {
  ecCurveOf,
  fingerprintSha256,
  parsePublicKeyBlob,
  WireReader,
  type PublicKeyInfo,
  type SshCertificate,
} from '../util/ssh-public-keys.js';

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

/** the KeyObject of a key whose signatures we can check; throws for the others (ssh-dss, sk-*) */
function verifierKey(pub: PublicKeyInfo): KeyObject {
  if (pub.key === null) throw new Error(`signatures of ${pub.type} keys are not supported`);
  return pub.key;
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
  const key = verifierKey(pub);
  const hash = sigHash(algo);
  if (pub.type.startsWith('ecdsa-sha2-')) {
    const curve = ecCurveOf(pub.type);
    if (!curve) return false;
    const sr = new WireReader(raw);
    const rr = sr.bytes();
    const ss = sr.bytes();
    const p1363 = Buffer.concat([padTo(rr, curve.size), padTo(ss, curve.size)]);
    return verify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, p1363);
  }
  return verify(hash, data, key, raw);
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
  const key = verifierKey(pub);
  switch (pub.type) {
    case 'ssh-rsa':
      return verify(hashAlgo ?? 'sha1', data, key, signature);
    case 'ssh-ed25519':
      return verify(null, data, key, signature);
    default: {
      const curve = ecCurveOf(pub.type);
      if (!curve) return false;
      return verify(curve.hash, data, { key, dsaEncoding: 'der' }, signature);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// certificates

export const CERT_TYPE_USER = 1;
export const CERT_TYPE_HOST = 2;
/** valid_before value meaning "forever" */
export const CERT_TIME_INFINITY = 0xffffffffffffffffn;

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
