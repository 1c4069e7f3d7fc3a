/** The SFTPGo version we reimplement; reported by --version, /api/v2/version and banners. */
export const VERSION = '2.1.2';
export const COMMIT_HASH = 'sftpgo-ts';
export const BUILD_DATE = '2026-11-27T00:00:00Z';
