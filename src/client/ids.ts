import { isIP } from 'node:net';

/**
 * Defender host ids are the hex encoding of the IP string (SFTPGo 2.1.2 common/defender.go:
 * `hex.EncodeToString([]byte(ip))`). Accepts either an id or an IP address and returns the id.
 */
export function defenderHostId(ipOrId: string): string {
  return isIP(ipOrId) !== 0 ? Buffer.from(ipOrId, 'utf8').toString('hex') : ipOrId;
}
