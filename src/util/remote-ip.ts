/**
 * Client addresses and CIDR lists (admin `filters.allow_list`, binding `proxy_allowed`),
 * with node's BlockList.
 */
import { BlockList, isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';

/** `::ffff:1.2.3.4` -> `1.2.3.4` */
export function normalizeIp(ip: string | undefined): string {
  if (!ip) return '';
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m?.[1] ?? ip;
}

/** A matcher for a list of IPs or CIDRs; malformed entries never match. */
export function ipMatcher(list: readonly string[]): (ip: string) => boolean {
  const bl = new BlockList();
  let count = 0;
  for (const entry of list) {
    const [addr = '', bits] = entry.trim().split('/');
    const family = isIP(addr);
    if (family === 0) continue;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) {
      bl.addAddress(addr, type);
    } else {
      const prefix = Number(bits);
      if (!/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128)) continue;
      bl.addSubnet(addr, prefix, type);
    }
    count++;
  }
  if (count === 0) return () => false;
  return (ip) => {
    const n = normalizeIp(ip);
    const family = isIP(n);
    if (family === 0) return false;
    return bl.check(n, family === 4 ? 'ipv4' : 'ipv6');
  };
}

/**
 * The client IP: the socket peer, or, when the peer is an allowed proxy, the first address of
 * X-Forwarded-For / X-Real-IP / CF-Connecting-IP / True-Client-IP (as upstream).
 */
export function resolveRemoteIp(
  peer: string | undefined,
  headers: IncomingHttpHeaders,
  isAllowedProxy: (ip: string) => boolean,
): string {
  const ip = normalizeIp(peer);
  if (!isAllowedProxy(ip)) return ip;
  for (const h of ['x-forwarded-for', 'x-real-ip', 'cf-connecting-ip', 'true-client-ip']) {
    const v = headers[h];
    const raw = Array.isArray(v) ? v[0] : v;
    const candidate = normalizeIp(raw?.split(',')[0]?.trim());
    if (candidate && isIP(candidate) !== 0) return candidate;
  }
  return ip;
}
