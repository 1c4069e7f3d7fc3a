/**
 * The Prometheus metrics of the process (upstream metrics/metrics.go at v2.1.2): the same names
 * and help texts, no labels, served by the telemetry server's /metrics (src/telemetry).
 *
 * A bottom module on purpose: the transfer layer (src/common), the protocols and the storage
 * backends (src/vfs) all count here, so it imports nothing of the project. There is one registry
 * per process, as upstream's: counters describe the process, whatever services it runs (several
 * services started in one process, as tests do, add to the same counters; assert on deltas).
 *
 * Every update is a synchronous increment (no await, no allocation beyond prom-client's own), so
 * counting on the transfer path costs nothing measurable.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

/** what /metrics serves: every metric below, and Node's process metrics once enabled */
export const metricsRegistry = new Registry();

function counter(name: string, help: string): Counter {
  return new Counter({ name, help, registers: [metricsRegistry] });
}

function gauge(name: string, help: string): Gauge {
  return new Gauge({ name, help, registers: [metricsRegistry] });
}

/** a success counter and an error counter */
interface Outcome {
  ok: Counter;
  ko: Counter;
}

function count(o: Outcome, ok: boolean): void {
  (ok ? o.ok : o.ko).inc();
}

// ---------------------------------------------------------------- data provider, connections

const dataproviderAvailability = gauge(
  'sftpgo_dataprovider_availability',
  'Availability for the configured data provider, 1 means OK, 0 KO',
);
const activeConnections = gauge('sftpgo_active_connections', 'Total number of logged in users');

// ---------------------------------------------------------------- transfers, SSH commands

export type TransferKind = 'upload' | 'download';

interface TransferCounters {
  upload: Outcome & { size: Counter };
  download: Outcome & { size: Counter };
}

/**
 * Count, errors and bytes of uploads and downloads: `sftpgo_uploads_total`, ... for every
 * protocol, `sftpgo_s3_uploads_total`, ... for a backend (`name` "S3 " in the help texts)
 */
function transferCounters(prefix: string, name: string): TransferCounters {
  const one = (kind: TransferKind): TransferCounters[TransferKind] => ({
    ok: counter(`${prefix}_${kind}s_total`, `The total number of successful ${name}${kind}s`),
    ko: counter(`${prefix}_${kind}_errors_total`, `The total number of ${name}${kind} errors`),
    size: counter(
      `${prefix}_${kind}_size`,
      `The total ${name}${kind} size as bytes, partial ${kind}s are included`,
    ),
  });
  return { upload: one('upload'), download: one('download') };
}

const transfers = transferCounters('sftpgo', '');

const sshCommands: Outcome = {
  ok: counter('sftpgo_ssh_commands_total', 'The total number of executed SSH commands'),
  ko: counter('sftpgo_ssh_command_errors_total', 'The total number of SSH command errors'),
};

// ---------------------------------------------------------------- logins

const loginAttempts = counter('sftpgo_login_attempts_total', 'The total number of login attempts');
const noAuthTried = counter(
  'sftpgo_no_auth_total',
  'The total number of clients disconnected for inactivity before trying to login',
);
const logins: Outcome = {
  ok: counter('sftpgo_login_ok_total', 'The total number of successful logins'),
  ko: counter('sftpgo_login_ko_total', 'The total number of failed logins'),
};

/**
 * Login methods as the protocols name them (the `LoginMethods` of the REST API) -> the infix of
 * their metrics and how the help texts describe them. Upstream counts any other method as a
 * password login, and so does loginCompleted.
 */
const LOGIN_METHODS = {
  password: ['password', 'a password'],
  publickey: ['public_key', 'a public key'],
  'keyboard-interactive': ['keyboard_interactive', 'keyboard interactive authentication'],
  'publickey+password': ['key_and_password', 'public key + password'],
  'publickey+keyboard-interactive': ['key_and_keyboard_int', 'public key + keyboard interactive'],
  TLSCertificate: ['tls_cert', 'a TLS certificate'],
  'TLSCertificate+password': ['tls_cert_and_pwd', 'a TLS certificate+password'],
} as const;

type LoginMethodName = keyof typeof LOGIN_METHODS;

const loginsByMethod = Object.fromEntries(
  Object.entries(LOGIN_METHODS).map(([method, [infix, what]]) => [
    method,
    {
      attempts: counter(
        `sftpgo_${infix}_login_attempts_total`,
        `The total number of login attempts using ${what}`,
      ),
      ok: counter(
        `sftpgo_${infix}_login_ok_total`,
        `The total number of successful logins using ${what}`,
      ),
      ko: counter(
        `sftpgo_${infix}_login_ko_total`,
        `The total number of failed logins using ${what}`,
      ),
    },
  ]),
) as Record<LoginMethodName, Outcome & { attempts: Counter }>;

// ---------------------------------------------------------------- REST API

const httpRequests = counter('sftpgo_http_req_total', 'The total number of HTTP requests served');
const httpOk = counter(
  'sftpgo_http_req_ok_total',
  'The total number of HTTP requests served with 2xx status code',
);
const httpClientErrors = counter(
  'sftpgo_http_client_errors_total',
  'The total number of HTTP requests served with 4xx status code',
);
const httpServerErrors = counter(
  'sftpgo_http_server_errors_total',
  'The total number of HTTP requests served with 5xx status code',
);

// ---------------------------------------------------------------- object storage backends

/** the metric prefix of each object storage backend (sftpgo_s3_..., sftpgo_gcs_..., sftpgo_az_...) */
export type CloudBackend = 's3' | 'gcs' | 'az';

const CLOUD_NAMES: Readonly<Record<CloudBackend, string>> = { s3: 'S3', gcs: 'GCS', az: 'Azure' };

/** the requests counted for every backend, plus the bucket or container check of each */
const COMMON_CLOUD_REQUESTS = [
  'list_objects',
  'copy_object',
  'delete_object',
  'head_object',
] as const;
export interface CloudRequests {
  s3: (typeof COMMON_CLOUD_REQUESTS)[number] | 'head_bucket';
  gcs: (typeof COMMON_CLOUD_REQUESTS)[number] | 'head_bucket';
  az: (typeof COMMON_CLOUD_REQUESTS)[number] | 'head_container';
}

const CLOUD_CHECK: Readonly<Record<CloudBackend, string>> = {
  s3: 'head_bucket',
  gcs: 'head_bucket',
  az: 'head_container',
};

function cloudRequests(b: CloudBackend): Record<string, Outcome> {
  const name = CLOUD_NAMES[b];
  return Object.fromEntries(
    [...COMMON_CLOUD_REQUESTS, CLOUD_CHECK[b]].map((req) => {
      const what = req.replace('_', ' ');
      return [
        req,
        {
          ok: counter(
            `sftpgo_${b}_${req}`,
            `The total number of successful ${name} ${what} requests`,
          ),
          ko: counter(`sftpgo_${b}_${req}_errors`, `The total number of ${name} ${what} errors`),
        },
      ];
    }),
  );
}

const BACKENDS: readonly CloudBackend[] = ['s3', 'gcs', 'az'];
const cloud = Object.fromEntries(
  BACKENDS.map((b) => [
    b,
    {
      transfers: transferCounters(`sftpgo_${b}`, `${CLOUD_NAMES[b]} `),
      requests: cloudRequests(b),
    },
  ]),
) as Record<CloudBackend, { transfers: TransferCounters; requests: Record<string, Outcome> }>;

// ---------------------------------------------------------------- updates

function transferDone(c: TransferCounters, kind: TransferKind, bytes: number, ok: boolean): void {
  const t = c[kind];
  count(t, ok);
  if (bytes > 0) t.size.inc(bytes);
}

let processMetrics = false;

export const metrics = Object.freeze({
  /** an upload or download of any protocol ended; `bytes` moved, also when it failed */
  transferCompleted(kind: TransferKind, bytes: number, ok: boolean): void {
    transferDone(transfers, kind, bytes, ok);
  },

  /** an SSH command (hash, cd, pwd, sftpgo-copy/remove, git, rsync) ended */
  sshCommandCompleted(ok: boolean): void {
    count(sshCommands, ok);
  },

  /**
   * One login attempt and its result, by method as the protocols log it ("password",
   * "publickey", "publickey+password", "TLSCertificate", ...; anything else counts as password).
   */
  loginCompleted(method: string, ok: boolean): void {
    const m = loginsByMethod[method as LoginMethodName] ?? loginsByMethod.password;
    loginAttempts.inc();
    m.attempts.inc();
    count(logins, ok);
    count(m, ok);
  },

  /** a client went away (or was dropped) without trying to log in */
  noAuthTried(): void {
    noAuthTried.inc();
  },

  /** a REST API response went out with `status` */
  httpRequestServed(status: number): void {
    httpRequests.inc();
    if (status >= 200 && status < 300) httpOk.inc();
    else if (status >= 400 && status < 500) httpClientErrors.inc();
    else if (status >= 500) httpServerErrors.inc();
  },

  /** the connections of every protocol currently registered */
  setActiveConnections(n: number): void {
    activeConnections.set(n);
  },

  setDataProviderAvailable(ok: boolean): void {
    dataproviderAvailability.set(ok ? 1 : 0);
  },

  /** an object storage transfer ended; `bytes` moved, also when it failed */
  cloudTransferCompleted(
    backend: CloudBackend,
    kind: TransferKind,
    bytes: number,
    ok: boolean,
  ): void {
    transferDone(cloud[backend].transfers, kind, bytes, ok);
  },

  /** one object storage request (a listing page, a copy, a delete, a HEAD) ended */
  cloudRequestCompleted<B extends CloudBackend>(
    backend: B,
    request: CloudRequests[B],
    ok: boolean,
  ): void {
    const o = cloud[backend].requests[request];
    if (o) count(o, ok);
  },

  /** `p`, counted as one object storage request when it settles */
  meterCloudRequest<B extends CloudBackend, T>(
    backend: B,
    request: CloudRequests[B],
    p: Promise<T>,
  ): Promise<T> {
    return p.then(
      (v) => {
        metrics.cloudRequestCompleted(backend, request, true);
        return v;
      },
      (e: unknown) => {
        metrics.cloudRequestCompleted(backend, request, false);
        throw e;
      },
    );
  },

  /**
   * Adds Node's process metrics (CPU, memory, event loop lag, GC, handles) to the registry, as
   * upstream exposes Go's; only the telemetry server enables them (they sample the event loop).
   * Idempotent.
   */
  enableProcessMetrics(): void {
    if (processMetrics) return;
    processMetrics = true;
    collectDefaultMetrics({ register: metricsRegistry });
  },
});
