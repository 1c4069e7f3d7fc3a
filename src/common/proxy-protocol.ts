/**
 * The PROXY protocol (HAProxy's, v1 text and v2 binary) on accepted sockets, with SFTPGo 2.1.2's
 * policy (`common.proxy_protocol`, `common.proxy_allowed`, upstream common.GetProxyListener on
 * go-proxyproto):
 * - 1 (optional): a header from an address in proxy_allowed gives the client address; a
 *   connection from there without a header is taken as is; a header from any other address is
 *   read and ignored (the socket's address stays);
 * - 2 (required): an address in proxy_allowed must send a header, or the connection is closed;
 *   a header from any other address closes the connection; other addresses without a header
 *   connect directly.
 * The header must arrive within 5 s (upstream's ReadHeaderTimeout).
 *
 * Headers are parsed by proxy-protocol-js; reading exactly the header's bytes off the socket and
 * handing the rest back (socket.unshift) is ours.
 *
 * Protocols where the server speaks first (FTP) cannot wait for bytes from a direct client: for
 * them a connection from an address outside proxy_allowed is passed on at once, without looking
 * for a header (a header sent from there reaches the FTP parser as an unknown command and is not
 * used).
 */
import { isIP, type Socket } from 'node:net';
import { V1ProxyProtocol, V2ProxyProtocol } from 'proxy-protocol-js';
import { SftpgoError } from '../errors/index.js';
import { ipMatcher, normalizeIp } from '../util/remote-ip.js';

/** upstream's ReadHeaderTimeout */
export const PROXY_HEADER_TIMEOUT_MS = 5000;

const V1_PREFIX = Buffer.from('PROXY ');
const V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);
/** a v1 line is at most 107 bytes, CRLF included */
const V1_MAX = 107;

export interface ProxyPolicy {
  /** common.proxy_protocol: 0 off, 1 optional, 2 required */
  mode: number;
  /** common.proxy_allowed */
  isAllowed: (ip: string) => boolean;
  headerTimeoutMs?: number;
}

export function proxyPolicyOf(mode: number, allowed: readonly string[]): ProxyPolicy {
  return { mode, isAllowed: ipMatcher(allowed) };
}

export interface ClientAddress {
  /** the client's IP: the header's source, or the socket's peer */
  ip: string;
  port: number;
  /** true when the address came from a PROXY header */
  proxied: boolean;
}

function refused(msg: string): SftpgoError {
  return new SftpgoError('CONNECTION_DENIED', msg);
}

type Parsed =
  | { kind: 'none' }
  | { kind: 'partial' }
  | { kind: 'header'; length: number; address: ClientAddress | undefined };

function startsWith(buf: Buffer, prefix: Buffer): boolean {
  const n = Math.min(buf.length, prefix.length);
  return buf.subarray(0, n).equals(prefix.subarray(0, n));
}

/** what the first bytes of a connection are: no header, not enough yet, or a whole header */
export function parseProxyHeader(buf: Buffer): Parsed {
  if (startsWith(buf, V2_SIGNATURE)) {
    if (buf.length < 16) return { kind: 'partial' };
    const length = 16 + buf.readUInt16BE(14);
    if (buf.length < length) return { kind: 'partial' };
    let h: V2ProxyProtocol;
    try {
      h = V2ProxyProtocol.parse(buf.subarray(0, length));
    } catch (e) {
      throw refused(`invalid PROXY v2 header: ${(e as Error).message}`);
    }
    const a = h.proxyAddress as { sourceAddress?: { address: number[] }; sourcePort?: number };
    // LOCAL (health checks) and UNSPEC/unix carry no client address: the socket's stays
    if (h.command !== 1 || a.sourceAddress === undefined || a.sourcePort === undefined) {
      return { kind: 'header', length, address: undefined };
    }
    const bytes = a.sourceAddress.address;
    const ip =
      bytes.length === 4
        ? bytes.join('.')
        : Array.from({ length: 8 }, (_, i) =>
            (((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0)).toString(16),
          ).join(':');
    return {
      kind: 'header',
      length,
      address: { ip: normalizeIp(ip), port: a.sourcePort, proxied: true },
    };
  }
  if (startsWith(buf, V1_PREFIX)) {
    const end = buf.indexOf('\r\n');
    if (end < 0) {
      if (buf.length >= V1_MAX) throw refused('invalid PROXY v1 header: no CRLF within 107 bytes');
      return { kind: 'partial' };
    }
    const line = buf.subarray(0, end + 2).toString('latin1');
    if (line.startsWith('PROXY UNKNOWN'))
      return { kind: 'header', length: end + 2, address: undefined };
    let h: V1ProxyProtocol;
    try {
      h = V1ProxyProtocol.parse(line);
    } catch (e) {
      throw refused(`invalid PROXY v1 header: ${(e as Error).message}`);
    }
    // the library's pattern lets any word through as an address
    if (isIP(h.source.ipAddress) === 0)
      throw refused(
        `invalid PROXY v1 header: bad source address ${JSON.stringify(h.source.ipAddress)}`,
      );
    return {
      kind: 'header',
      length: end + 2,
      address: { ip: normalizeIp(h.source.ipAddress), port: h.source.port, proxied: true },
    };
  }
  return { kind: 'none' };
}

/**
 * Applies the policy to a freshly accepted socket before the protocol reads from it. Resolves
 * with the address to use for the client (defender, IP filters, logs, connection list); the
 * bytes after the header are handed back to the socket. Rejects with CONNECTION_DENIED when the
 * policy refuses the connection (the caller closes the socket).
 */
export function acceptProxied(
  socket: Socket,
  policy: ProxyPolicy,
  o: { serverSpeaksFirst?: boolean } = {},
): Promise<ClientAddress> {
  const direct: ClientAddress = {
    ip: normalizeIp(socket.remoteAddress),
    port: socket.remotePort ?? 0,
    proxied: false,
  };
  if (policy.mode <= 0) return Promise.resolve(direct);
  const allowed = policy.isAllowed(direct.ip);
  if (!allowed && o.serverSpeaksFirst) return Promise.resolve(direct);
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    const finish = (err: Error | undefined, addr?: ClientAddress, rest?: Buffer): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      socket.pause();
      if (rest && rest.length > 0) socket.unshift(rest);
      if (err) reject(err);
      else resolve(addr ?? direct);
    };
    const decide = (p: Parsed, atEnd: boolean): void => {
      if (p.kind === 'partial' && !atEnd) return;
      if (p.kind === 'header') {
        const rest = buf.subarray(p.length);
        if (!allowed) {
          if (policy.mode === 2)
            finish(refused(`PROXY header from ${direct.ip}, not in proxy_allowed`));
          else finish(undefined, direct, rest);
          return;
        }
        finish(undefined, p.address ?? direct, rest);
        return;
      }
      // no header (or a truncated one at the end of the stream)
      if (allowed && policy.mode === 2)
        finish(refused(`no PROXY header from ${direct.ip} (proxy_protocol 2 requires one)`));
      else finish(undefined, direct, buf);
    };
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      try {
        decide(parseProxyHeader(buf), false);
      } catch (e) {
        finish(e as Error);
      }
    };
    const onEnd = (): void => decide({ kind: 'none' }, true);
    const onError = (e: Error): void => finish(e);
    const timer = setTimeout(() => {
      if (allowed && policy.mode === 2)
        finish(
          refused(
            `no PROXY header from ${direct.ip} within ${policy.headerTimeoutMs ?? PROXY_HEADER_TIMEOUT_MS} ms`,
          ),
        );
      else finish(undefined, direct, buf);
    }, policy.headerTimeoutMs ?? PROXY_HEADER_TIMEOUT_MS);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', onError);
  });
}
