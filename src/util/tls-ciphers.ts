/**
 * `tls_cipher_suites` of every TLS listener (ftpd, webdavd and httpd bindings, telemetry), as
 * SFTPGo 2.1.2 takes them: Go's cipher suite names, mapped here to OpenSSL's for Node's
 * `ciphers` option.
 */

/**
 * Go's TLS 1.2 cipher suite names (what `tls_cipher_suites` holds in SFTPGo 2.1.2's config)
 * -> OpenSSL's. Go does not let TLS 1.3 suites be chosen: their names are accepted and ignored,
 * as upstream; TLS 1.3 keeps Node's default suites.
 */
const GO_CIPHER_SUITES: Readonly<Record<string, string>> = {
  TLS_RSA_WITH_3DES_EDE_CBC_SHA: 'DES-CBC3-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA256: 'AES128-SHA256',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA: 'ECDHE-RSA-DES-CBC3-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
};
const TLS13_SUITES = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
];

/**
 * The OpenSSL cipher list for a binding's `tls_cipher_suites` (undefined: Node's defaults) and
 * the names that were not understood (upstream drops them; the caller warns).
 */
export function cipherList(names: readonly string[]): {
  ciphers: string | undefined;
  unknown: string[];
} {
  const mapped: string[] = [];
  const unknown: string[] = [];
  for (const n of names) {
    const o = GO_CIPHER_SUITES[n.trim()];
    if (o) {
      if (!mapped.includes(o)) mapped.push(o);
    } else if (!TLS13_SUITES.includes(n.trim())) unknown.push(n);
  }
  if (mapped.length === 0) return { ciphers: undefined, unknown };
  // TLS 1.3 suites first, as Node's default list; without them TLS 1.3 would be disabled
  return { ciphers: [...TLS13_SUITES, ...mapped].join(':'), unknown };
}

/**
 * `{ ciphers }` for a TLS server's options from `tls_cipher_suites` (nothing: Node's defaults);
 * `warnUnknown` hears each name that is not understood (upstream drops them silently).
 */
export function cipherOptions(
  names: readonly string[],
  warnUnknown: (name: string) => void,
): { ciphers?: string } {
  const { ciphers, unknown } = cipherList(names);
  for (const u of unknown) warnUnknown(u);
  return ciphers === undefined ? {} : { ciphers };
}
