/**
 * The WebDAV front end (issue 11): createWebdavd builds the server src/service starts when a
 * `webdavd.bindings[].port` is > 0.
 */
import type { Config } from '../config/index.js';
import { WebdavServer, type WebdavdDeps } from './server.js';

export { WebdavServer, type WebdavdDeps, type WebdavServiceStatus } from './server.js';
export { HTTP_STATUS, httpError } from './http-map.js';

export function createWebdavd(cfg: Readonly<Config['webdavd']>, deps: WebdavdDeps): WebdavServer {
  return new WebdavServer(cfg, deps);
}
