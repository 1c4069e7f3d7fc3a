/**
 * Public keys in OpenSSH authorized_keys format, parsed with ssh2's `utils.parseKey`.
 * Like Go's ssh.ParseAuthorizedKey, leading authorized_keys options (`no-pty,from="..." ssh-ed25519 AAAA...`)
 * are accepted; private keys are rejected.
 */
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';

const KEY_TYPE_RE = /^(ssh-|ecdsa-sha2-|sk-ssh-|sk-ecdsa-sha2-)/;

function tryParse(s: string): ParsedKey | Error {
  const r = ssh2.utils.parseKey(s);
  if (r instanceof Error) return r;
  const k = Array.isArray(r) ? r[0] : r;
  if (k === undefined) return new Error('no key found');
  if (k.isPrivateKey()) return new Error('a private key was given, a public key is required');
  return k;
}

/** The parsed public key, or the parse error. */
export function parseAuthorizedKey(line: string): ParsedKey | Error {
  const s = line.trim();
  if (s === '') return new Error('empty key');
  const first = tryParse(s);
  if (!(first instanceof Error)) return first;
  if (KEY_TYPE_RE.test(s)) return first;
  // authorized_keys options come first: retry from the first token that looks like a key type
  const tokens = s.split(/\s+/);
  const idx = tokens.findIndex((t) => KEY_TYPE_RE.test(t));
  if (idx <= 0) return first;
  return tryParse(tokens.slice(idx).join(' '));
}
