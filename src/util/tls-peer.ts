/** The client certificate of a TLS connection, as the login hooks and the login checks need it */
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';

export interface PeerCertificate {
  /** PEM, with its newlines */
  pem: string;
  /** the subject's CommonName ('' when it has none) */
  commonName: string;
}

/** the certificate the client presented, or undefined when it sent none */
export function peerCertificate(ts: TLSSocket): PeerCertificate | undefined {
  const c = ts.getPeerCertificate();
  if (!c || Object.keys(c).length === 0 || !Buffer.isBuffer(c.raw)) return undefined;
  const cn = (c.subject as Record<string, string | string[] | undefined> | undefined)?.CN;
  return {
    pem: new X509Certificate(c.raw).toString(),
    commonName: (Array.isArray(cn) ? cn[0] : cn) ?? '',
  };
}
