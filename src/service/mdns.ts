/**
 * mDNS/DNS-SD advertising for `sftpgo portable -S [-C]` (upstream service/service_portable.go
 * `advertiseServices` at v2.1.2, which uses grandcat/zeroconf): one service per running protocol,
 * instance "SFTPGo portable <port>", domain "local.", TXT `version=<version>` and, with -C,
 * `user=<username>` and `password=<password>`. Advertising is best effort, as upstream: a failure
 * is a warning and the servers keep running.
 *
 * bonjour-service does the DNS-SD work (probing, announcements, answers to queries, goodbye
 * packets with TTL 0); it is loaded only when -S is given.
 */
import type { EventEmitter } from 'node:events';
import type { Bonjour } from 'bonjour-service';

export type AdvertisedProtocol = 'SFTP' | 'FTP' | 'WebDAV';

/** one DNS-SD service to publish */
export interface Advertisement {
  protocol: AdvertisedProtocol;
  /** the instance name: "SFTPGo portable <port>" */
  name: string;
  /** the DNS-SD service type without its leading underscore (bonjour-service adds it) */
  type: 'sftp-ssh' | 'ftp' | 'http';
  port: number;
  txt: Record<string, string>;
}

export interface AdvertisementPlan {
  advertisements: Advertisement[];
  /** console lines to print before publishing (upstream's InfoToConsole) */
  notes: string[];
}

/** the DNS-SD type of each protocol, as upstream (WebDAV is `_http._tcp`, over HTTPS too) */
const TYPES: Record<AdvertisedProtocol, Advertisement['type']> = {
  SFTP: 'sftp-ssh',
  FTP: 'ftp',
  WebDAV: 'http',
};

/**
 * What to publish for the running protocols (pure). `credentials` is given only with -C:
 * `user=` is always advertised then, `password=` only when the user has a password.
 */
export function planAdvertisements(input: {
  /** the bound port of each running protocol, in upstream's order SFTP, FTP, WebDAV */
  ports: Partial<Record<AdvertisedProtocol, number>>;
  version: string;
  credentials?: { username: string; password: string | undefined };
}): AdvertisementPlan {
  const txt: Record<string, string> = { version: input.version };
  const notes: string[] = [];
  if (input.credentials) {
    notes.push('Advertising credentials via multicast DNS');
    txt.user = input.credentials.username;
    if (input.credentials.password !== undefined && input.credentials.password !== '') {
      txt.password = input.credentials.password;
    } else {
      notes.push(
        "Unable to advertise key based credentials via multicast DNS, we don't have the private key",
      );
    }
  }
  const advertisements: Advertisement[] = [];
  for (const protocol of ['SFTP', 'FTP', 'WebDAV'] as const) {
    const port = input.ports[protocol];
    if (port === undefined || port <= 0) continue;
    advertisements.push({
      protocol,
      name: `SFTPGo portable ${port}`,
      type: TYPES[protocol],
      port,
      txt: { ...txt },
    });
  }
  return { advertisements, notes };
}

export interface AdvertiserIO {
  info(message: string): void;
  warn(message: string): void;
}

export interface Advertiser {
  /** sends the goodbye packets (TTL 0) and closes the mDNS socket; idempotent, never rejects */
  stop(): Promise<void>;
}

/**
 * the longest stop() waits for the goodbye packets and the socket close: a stuck send must not
 * keep SIGTERM from ending the process
 */
const STOP_WAIT_MS = 2000;

/** publishes the advertisements; never rejects, failures are reported through io.warn */
export async function startAdvertising(
  advertisements: readonly Advertisement[],
  io: AdvertiserIO,
): Promise<Advertiser> {
  const failed = new Set<AdvertisedProtocol>();
  const fail = (protocols: readonly AdvertisedProtocol[], e: unknown): void => {
    for (const p of protocols) {
      if (failed.has(p)) continue;
      failed.add(p);
      io.warn(`Unable to advertise ${p} service via multicast DNS: ${errorText(e)}`);
    }
  };
  const all = advertisements.map((a) => a.protocol);
  if (advertisements.length === 0) return { stop: () => Promise.resolve() };

  let bonjour: Bonjour;
  try {
    const { Bonjour } = await import('bonjour-service');
    // the callback gets the send errors of answers to queries (the default throws them)
    bonjour = new Bonjour({}, (e: unknown) => io.warn(`multicast DNS: ${errorText(e)}`));
  } catch (e) {
    fail(all, e);
    return { stop: () => Promise.resolve() };
  }
  // bonjour-service does not expose its multicast-dns instance, which emits 'error' when the
  // mDNS socket cannot be bound (EACCES, EADDRINUSE): without a listener that would be an
  // uncaught exception. It is attached synchronously, before the bind can fail.
  const mdns = (bonjour as unknown as { server?: { mdns?: EventEmitter } }).server?.mdns;
  mdns?.on('error', (e: unknown) => fail(all, e));

  for (const a of advertisements) {
    try {
      const service = bonjour.publish({
        name: a.name,
        type: a.type,
        protocol: 'tcp',
        port: a.port,
        txt: a.txt,
      });
      service.once('up', () => {
        if (!failed.has(a.protocol)) io.info(`${a.protocol} service advertised via multicast DNS`);
      });
    } catch (e) {
      fail([a.protocol], e);
    }
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= new Promise<void>((resolve) => {
      for (const a of advertisements) {
        if (!failed.has(a.protocol)) io.info(`unregistering multicast DNS ${a.protocol} service`);
      }
      const guard = setTimeout(resolve, STOP_WAIT_MS);
      guard.unref();
      const done = (): void => {
        clearTimeout(guard);
        resolve();
      };
      try {
        // goodbye packets first, then the socket is closed
        bonjour.unpublishAll(() => {
          try {
            bonjour.destroy(done);
          } catch {
            done(); // already closed: nothing more to release
          }
        });
      } catch (e) {
        io.warn(`multicast DNS: ${errorText(e)}`);
        done();
      }
    });
    return stopping;
  };
  return { stop };
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
