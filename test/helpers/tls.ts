/** TLS handshakes as a test client sees them */
import { connect as tlsConnect } from 'node:tls';

/**
 * Completes a TLS handshake with 127.0.0.1:`port` (certificate not verified) and returns
 * "<protocol> <cipher>", e.g. "TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384"; rejects when the server
 * refuses it.
 */
export async function tlsHandshake(
  port: number,
  o: { maxVersion?: 'TLSv1.2'; ciphers?: string } = {},
): Promise<string> {
  const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...o });
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('secureConnect', () => resolve());
      s.once('error', reject);
    });
    return `${s.getProtocol() ?? ''} ${s.getCipher().name}`;
  } finally {
    s.destroy();
  }
}
