/**
 * What the REST routes share: the dependencies built by src/service and the per-request state
 * set by the middlewares.
 */
import type { ParameterizedContext } from 'koa';
import type { RouterContext } from '@koa/router';
import type { Schemas } from '../api/index.js';
import type { DataProvider, User } from '../dataprovider/provider.js';
import type { TokenClaims, TokenManager } from './jwt.js';
import type { ServiceDeps } from './service-deps.js';

/** The subset of the pino logger the HTTP server uses. */
export interface HttpdLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): HttpdLogger;
}

export type ServicesStatus = Schemas['ServicesStatus'];
export type VersionInfo = Schemas['VersionInfo'];

export interface HttpdState {
  /** client address after applying the binding's proxy_allowed rules */
  remoteIp: string;
  /** set by the admin token middleware */
  claims?: TokenClaims;
  /** the raw bearer token, for logout */
  token?: string;
  /** the web client's user, loaded by its session middleware */
  webUser?: User;
}

export type HttpdContext = ParameterizedContext<HttpdState, RouterContext<HttpdState>>;

export interface ApiDeps extends ServiceDeps {
  provider: DataProvider;
  tokens: TokenManager;
  logger: HttpdLogger;
  /** the root logger (no bindings): connection_failed lines */
  rootLogger: HttpdLogger;
  version: VersionInfo;
  /** status of every service (ssh, ftp, webdav, defender); data_provider is filled in here */
  servicesStatus: () => Promise<Omit<ServicesStatus, 'data_provider'>>;
  /** closes every active connection of the user; absent when no protocol tracks connections */
  disconnectUser?: ((username: string) => unknown) | undefined;
}
