/** moved to src/util/remote-ip.ts (shared with webdavd); re-exported for httpd */
export * from '../util/remote-ip.js';
