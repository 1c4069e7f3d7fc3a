/**
 * What the REST routes of quota, defender, connections, maintenance (dump/load) and the user API
 * need besides the provider and the tokens: the service-wide objects built by src/service
 * (defender and rate limiters behind the ConnectionGate, connection registry, quota scans) and
 * the config slices they read. Part of ApiDeps (context.ts).
 */
import type { ConnectionGate } from '../common/connection-gate.js';
import type { PostLoginNotifier } from '../common/post-login.js';
import type { Defender } from '../common/defender.js';
import type { QuotaScanRegistry } from '../common/quota-scan-registry.js';
import type { ConnectionRegistry } from '../common/registry.js';
import type { ConnectionConfig, TrackQuota } from '../common/types.js';
import type { UserFsDeps } from '../common/user-fs.js';
import type { HookHttpClient } from '../util/hooks/http-client.js';

export interface ServiceDeps {
  defender: Defender;
  /** the pre-authentication checks (banned hosts, rate limiters) and defender reporting */
  gate: ConnectionGate;
  connections: ConnectionRegistry;
  quotaScans: QuotaScanRegistry;
  /** data_provider.track_quota */
  trackQuota: TrackQuota;
  /** httpd.backups_path, absolute */
  backupsPath: string;
  /** per-connection config of the HTTP user API connections */
  connectionConfig: ConnectionConfig;
  /** how user filesystems are built (temp path, fsync) */
  userFs: UserFsDeps;
  /** the one HTTP client of every HTTP hook (the `http` section) */
  hookHttp?: HookHttpClient;
  /** the post-login hook; absent when none is configured */
  postLogin?: PostLoginNotifier;
}
