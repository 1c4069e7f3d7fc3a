/**
 * TLS for the FTP control and data connections.
 *
 * Every socket is wrapped by injecting it into a (never listening) `tls.Server` with
 * `server.emit('connection', socket)` — the documented way to hand an existing stream to a TLS
 * server. The wrap is synchronous: the TLS layer takes over the socket's handle before the
 * event loop runs again, so a ClientHello that arrives right after our `234` (AUTH TLS) or right
 * after a data connection is accepted can never reach a plaintext reader (the race that breaks
 * ftp-srv, reference/deps-evaluation.md §2). Node's server semantics then apply unchanged:
 * handshake timeout, client certificate verification against `ca_certificates` and
 * `ca_revocation_lists`, `secureConnection` only for authorized peers when a certificate is
 * required. The wrapped socket is found again by its address tuple.
 */
import { readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { isAbsolute, join } from 'node:path';
import tls from 'node:tls';
import type { FtpdConfig } from '../config/index.js';
import { SftpgoError } from '../errors/index.js';
import { peerCertificate, type PeerCertificate } from '../util/tls-peer.js';

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca: Buffer[];
  crl: Buffer[];
}

const HANDSHAKE_TIMEOUT_MS = 30_000;

async function readConfigFile(configDir: string, key: string, p: string): Promise<Buffer> {
  const file = isAbsolute(p) ? p : join(configDir, p);
  try {
    return await readFile(file);
  } catch (e) {
    throw new SftpgoError('INVALID_INPUT', `ftpd.${key}: unable to read ${JSON.stringify(file)}`, { cause: e });
  }
}

/** certificate, key, CAs and CRLs of the `ftpd` section; undefined without a certificate */
export async function loadTlsMaterial(cfg: Readonly<FtpdConfig>, configDir: string): Promise<TlsMaterial | undefined> {
  if (!cfg.certificate_file && !cfg.certificate_key_file) return undefined;
  if (!cfg.certificate_file || !cfg.certificate_key_file) {
    throw new SftpgoError('INVALID_INPUT', 'ftpd: certificate_file and certificate_key_file must be set together');
  }
  const cert = await readConfigFile(configDir, 'certificate_file', cfg.certificate_file);
  const key = await readConfigFile(configDir, 'certificate_key_file', cfg.certificate_key_file);
  const ca: Buffer[] = [];
  for (const p of cfg.ca_certificates) ca.push(await readConfigFile(configDir, 'ca_certificates', p));
  const crl: Buffer[] = [];
  for (const p of cfg.ca_revocation_lists) crl.push(await readConfigFile(configDir, 'ca_revocation_lists', p));
  // build one context now: a bad certificate or key is a start-up error, not a handshake error
  try {
    tls.createSecureContext({ cert, key, ...(ca.length > 0 ? { ca } : {}), ...(crl.length > 0 ? { crl } : {}) });
  } catch (e) {
    throw new SftpgoError('INVALID_INPUT', `ftpd: invalid TLS certificate, key, CA or CRL: ${(e as Error).message}`, { cause: e });
  }
  return { cert, key, ca, crl };
}

export interface WrapCallbacks {
  /** the handshake completed (and the client certificate, if required, was verified) */
  secure(ts: tls.TLSSocket): void;
  /** the handshake failed or timed out; the socket is already being destroyed */
  failed(err: Error): void;
}

function tupleKey(remoteAddress: string | undefined, remotePort: number | undefined, localPort: number | undefined): string {
  return `${remoteAddress ?? ''}|${remotePort ?? 0}|${localPort ?? 0}`;
}

/** wraps sockets of one binding as TLS servers (client_auth_type of the binding) */
export class TlsWrapper {
  private readonly server: tls.Server;
  private readonly pending = new Map<string, WrapCallbacks>();
  readonly clientAuthType: number;

  private readonly ciphers: string | undefined;

  constructor(m: TlsMaterial, clientAuthType: number, ciphers?: string) {
    this.clientAuthType = clientAuthType;
    this.ciphers = ciphers;
    this.server = tls.createServer({
      ...this.contextOptions(m),
      requestCert: clientAuthType > 0,
      // 1: required and verified in the handshake; 2: verified if given (checked in secure())
      rejectUnauthorized: clientAuthType === 1,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    });
    this.server.on('secureConnection', (ts: tls.TLSSocket) => {
      const cb = this.take(ts);
      if (!cb) {
        ts.destroy();
        return;
      }
      if (this.clientAuthType === 2 && !ts.authorized && hasPeerCertificate(ts)) {
        const err = new Error(`client certificate verification failed: ${String(ts.authorizationError)}`);
        ts.destroy();
        cb.failed(err);
        return;
      }
      cb.secure(ts);
    });
    this.server.on('tlsClientError', (err: Error, ts: tls.TLSSocket) => {
      const cb = this.take(ts);
      ts.destroy();
      cb?.failed(err);
    });
  }

  private contextOptions(m: TlsMaterial): tls.SecureContextOptions {
    return {
      ...(this.ciphers ? { ciphers: this.ciphers } : {}),
      cert: m.cert,
      key: m.key,
      ...(m.ca.length > 0 ? { ca: m.ca } : {}),
      ...(m.crl.length > 0 ? { crl: m.crl } : {}),
      minVersion: 'TLSv1.2',
      honorCipherOrder: true,
    };
  }

  /** new certificate, key, CAs and CRLs for the connections wrapped from now on */
  update(m: TlsMaterial): void {
    this.server.setSecureContext(this.contextOptions(m));
  }

  private take(ts: tls.TLSSocket): WrapCallbacks | undefined {
    const key = tupleKey(ts.remoteAddress, ts.remotePort, ts.localPort);
    const cb = this.pending.get(key);
    this.pending.delete(key);
    return cb;
  }

  /**
   * Wraps `raw` synchronously as the server side of a TLS connection. Nothing must have been
   * read from `raw` past the point where TLS starts (bytes still buffered in it are handed to
   * the TLS layer).
   */
  wrap(raw: Socket, cb: WrapCallbacks): void {
    const key = tupleKey(raw.remoteAddress, raw.remotePort, raw.localPort);
    this.pending.set(key, cb);
    raw.once('close', () => {
      if (this.pending.get(key) === cb) {
        this.pending.delete(key);
        cb.failed(new Error('connection closed during the TLS handshake'));
      }
    });
    this.server.emit('connection', raw);
  }
}

export function hasPeerCertificate(ts: tls.TLSSocket): boolean {
  const c = ts.getPeerCertificate();
  return c !== null && typeof c === 'object' && Object.keys(c).length > 0;
}

/** a verified client certificate with a CommonName, if any */
export function verifiedClientCertificate(ts: tls.TLSSocket): PeerCertificate | undefined {
  if (!ts.authorized) return undefined;
  const c = peerCertificate(ts);
  return c?.commonName ? c : undefined;
}
