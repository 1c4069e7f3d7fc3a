/**
 * The defender (upstream common/defender.go at v2.1.2, docs/defender.md): an in-memory score per
 * client IP, raised by failed logins and limit violations; a host whose score reaches
 * `threshold` within the last `observation_time` minutes is banned for `ban_time` minutes, and
 * every connection attempt of a banned host extends the ban by `ban_time_increment` percent.
 * Hosts of the safelist never collect events; hosts of the blocklist are always refused.
 *
 * One instance per running service (built by src/service, passed down): no globals. The clock is
 * injectable so tests never sleep. A disabled defender answers as upstream's nil defender does:
 * nobody is banned, events are ignored, the host lists are empty.
 */
import { readFile, stat } from 'node:fs/promises';
import { BlockList, isIP } from 'node:net';
import type { DefenderConfig } from '../config/index.js';
import { SftpgoError } from '../errors/index.js';
import { silentLogger, type Logger } from './types.js';
import { ipFromRemoteAddress } from './user-policy.js';

/**
 * What happened (upstream HostEvent): a failed login of an existing user (`score_valid`), a login
 * for an unknown user or a client that never tried to log in (`score_invalid`), a connection or
 * rate limit exceeded (`score_limit_exceeded`).
 */
export type DefenderEvent = 'login_failed' | 'user_not_found' | 'no_login_tried' | 'limit_exceeded';

/** A host as GET /api/v2/defender/hosts shows it (DefenderEntry of the spec). */
export interface DefenderEntry {
  /** hex encoding of the IP string */
  id: string;
  ip: string;
  /** present for hosts that are not banned */
  score?: number;
  /** RFC 3339 (UTC, seconds) end of the ban; present for banned hosts */
  ban_time?: string;
}

/** the safelist/blocklist file format */
export interface HostListFile {
  addresses?: string[];
  networks?: string[];
}

/** host lists larger than this are refused (upstream: "you should avoid big host lists") */
export const MAX_HOST_LIST_SIZE = 5 * 1024 * 1024;

export type DefenderSettings = Pick<
  DefenderConfig,
  | 'enabled'
  | 'ban_time'
  | 'ban_time_increment'
  | 'threshold'
  | 'score_invalid'
  | 'score_valid'
  | 'score_limit_exceeded'
  | 'observation_time'
  | 'entries_soft_limit'
  | 'entries_hard_limit'
  | 'safelist_file'
  | 'blocklist_file'
>;

export interface DefenderOptions {
  logger?: Logger;
  /** clock in ms since epoch (tests) */
  now?: () => number;
}

interface HostEvent {
  at: number;
  score: number;
}

/** one parsed host list: exact addresses and CIDR networks */
export class HostList {
  private readonly addresses: ReadonlySet<string>;
  private readonly networks: BlockList | undefined;
  readonly size: number;

  constructor(addresses: Iterable<string>, networks: BlockList | undefined, networkCount: number) {
    this.addresses = new Set(addresses);
    this.networks = networks;
    this.size = this.addresses.size + networkCount;
  }

  has(ip: string): boolean {
    if (this.addresses.has(ip)) return true;
    if (!this.networks) return false;
    const family = isIP(ip);
    if (family === 0) return false;
    return this.networks.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** the canonical key of a client address ("::ffff:1.2.3.4" and "1.2.3.4:22" become "1.2.3.4") */
export function defenderKey(ipOrAddress: string): string {
  return ipFromRemoteAddress(ipOrAddress).toLowerCase();
}

/** the API id of a host: hex of the IP string (`127.0.0.1` -> `3132372e302e302e31`) */
export function hostId(ip: string): string {
  return Buffer.from(ip, 'utf8').toString('hex');
}

/** Go's time.RFC3339 of a UTC instant: no fractional seconds */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Parses a safelist/blocklist document. Malformed addresses and networks are skipped (and
 * reported through `warn`), as upstream; a document that is not an object with string lists is
 * an error. Returns undefined when the lists are empty.
 */
export function parseHostList(
  doc: unknown,
  name: string,
  warn: (msg: string) => void = () => undefined,
): HostList | undefined {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new SftpgoError('INVALID_INPUT', `host list ${JSON.stringify(name)}: expected an object with "addresses" and "networks" lists`);
  }
  const d = doc as Record<string, unknown>;
  const list = (key: string): string[] => {
    const v = d[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
      throw new SftpgoError('INVALID_INPUT', `host list ${JSON.stringify(name)}: "${key}" must be a list of strings`);
    }
    return v as string[];
  };
  const addresses: string[] = [];
  for (const a of list('addresses')) {
    const ip = a.trim();
    if (isIP(ip) === 0) {
      warn(`unable to parse IP ${JSON.stringify(a)}`);
      continue;
    }
    addresses.push(defenderKey(ip));
  }
  const bl = new BlockList();
  let networks = 0;
  for (const n of list('networks')) {
    const [addr = '', bits, extra] = n.trim().split('/');
    const family = isIP(addr);
    const prefix = Number(bits);
    if (family === 0 || extra !== undefined || bits === undefined || !/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128)) {
      warn(`unable to parse CIDR network ${JSON.stringify(n)}`);
      continue;
    }
    bl.addSubnet(addr, prefix, family === 4 ? 'ipv4' : 'ipv6');
    networks++;
  }
  if (addresses.length === 0 && networks === 0) return undefined;
  return new HostList(addresses, networks > 0 ? bl : undefined, networks);
}

/** reads and parses a host list file; "" means no list */
export async function loadHostListFile(path: string, logger: Logger = silentLogger): Promise<HostList | undefined> {
  if (path === '') return undefined;
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    throw new SftpgoError('INVALID_INPUT', `unable to read host list file ${JSON.stringify(path)}: ${(e as Error).message}`, { cause: e });
  }
  if (size > MAX_HOST_LIST_SIZE) {
    throw new SftpgoError('INVALID_INPUT', `host list file ${JSON.stringify(path)} is too big: ${size} bytes`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new SftpgoError('INVALID_INPUT', `unable to parse host list file ${JSON.stringify(path)}: ${(e as Error).message}`, { cause: e });
  }
  const warn = (msg: string): void => logger.warn({ file: path }, msg);
  const list = parseHostList(doc, path, warn);
  logger.info({ file: path, entries: list?.size ?? 0 }, 'host list loaded');
  return list;
}

export class Defender {
  private readonly cfg: DefenderSettings;
  private readonly log: Logger;
  private readonly now: () => number;
  /** IP -> events inside the observation window (hosts not banned) */
  private readonly hosts = new Map<string, HostEvent[]>();
  /** IP -> end of the ban (ms) */
  private readonly banned = new Map<string, number>();
  private safeList: HostList | undefined;
  private blockList: HostList | undefined;

  /** prefer createDefender(), which also loads the host lists */
  constructor(cfg: DefenderSettings, o: DefenderOptions = {}) {
    this.cfg = { ...cfg };
    // `sender: 'defender'` is bound by the service (src/service/start.ts), not repeated per line
    this.log = o.logger ?? silentLogger;
    this.now = o.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.cfg.enabled;
  }

  private get observationMs(): number {
    return this.cfg.observation_time * 60_000;
  }

  /**
   * (Re)loads the safelist and the blocklist (SIGHUP). On failure the previous lists stay in
   * force and the error is thrown.
   */
  async reload(): Promise<void> {
    if (!this.enabled) return;
    const [safe, block] = await Promise.all([
      loadHostListFile(this.cfg.safelist_file, this.log),
      loadHostListFile(this.cfg.blocklist_file, this.log),
    ]);
    this.safeList = safe;
    this.blockList = block;
  }

  /**
   * True when the host must be refused: banned (each call of a banned host extends its ban by
   * ban_time_increment percent of ban_time, at least one minute) or in the blocklist.
   * Call it once per new client connection.
   */
  isBanned(ipOrAddress: string): boolean {
    if (!this.enabled) return false;
    const ip = defenderKey(ipOrAddress);
    const until = this.banned.get(ip);
    const now = this.now();
    if (until !== undefined) {
      if (until > now) {
        const increment = Math.max(1, Math.floor((this.cfg.ban_time * this.cfg.ban_time_increment) / 100));
        this.banned.set(ip, until + increment * 60_000);
        return true;
      }
      this.banned.delete(ip);
    }
    return this.blockList?.has(ip) ?? false;
  }

  /** whether the host is banned right now, without extending the ban (status queries) */
  isBannedNow(ipOrAddress: string): boolean {
    if (!this.enabled) return false;
    const ip = defenderKey(ipOrAddress);
    const until = this.banned.get(ip);
    if (until !== undefined && until > this.now()) return true;
    return this.blockList?.has(ip) ?? false;
  }

  private scoreOf(kind: DefenderEvent): number {
    switch (kind) {
      case 'login_failed':
        return this.cfg.score_valid;
      case 'user_not_found':
      case 'no_login_tried':
        return this.cfg.score_invalid;
      case 'limit_exceeded':
        return this.cfg.score_limit_exceeded;
    }
  }

  /**
   * Records an event for a host. Safelisted hosts and hosts already banned are ignored; when the
   * score of the observation window reaches the threshold the host is banned.
   */
  addEvent(ipOrAddress: string, kind: DefenderEvent): void {
    if (!this.enabled) return;
    const ip = defenderKey(ipOrAddress);
    if (this.safeList?.has(ip)) return;
    const now = this.now();
    const until = this.banned.get(ip);
    if (until !== undefined) {
      if (until > now) return;
      this.banned.delete(ip);
    }
    const score = this.scoreOf(kind);
    const since = now - this.observationMs;
    const known = this.hosts.get(ip);
    const events = (known ?? []).filter((e) => e.at > since);
    events.push({ at: now, score });
    const total = events.reduce((s, e) => s + e.score, 0);
    if (total >= this.cfg.threshold) {
      this.hosts.delete(ip);
      this.banned.set(ip, now + this.cfg.ban_time * 60_000);
      this.log.info({ remote_addr: ip, score: total, event: kind }, 'host banned');
      this.cleanupBanned(now);
      return;
    }
    this.hosts.set(ip, events);
    this.log.debug({ remote_addr: ip, score: total, event: kind }, 'defender event');
    if (!known) this.cleanupHosts();
  }

  /** the current score of a host (0 when unknown or banned) */
  getScore(ipOrAddress: string): number {
    if (!this.enabled) return 0;
    const events = this.hosts.get(defenderKey(ipOrAddress));
    if (!events) return 0;
    const since = this.now() - this.observationMs;
    return events.reduce((s, e) => (e.at > since ? s + e.score : s), 0);
  }

  /** the end of the ban of a host, undefined when it is not banned */
  getBanTime(ipOrAddress: string): Date | undefined {
    if (!this.enabled) return undefined;
    const until = this.banned.get(defenderKey(ipOrAddress));
    if (until === undefined || until <= this.now()) return undefined;
    return new Date(until);
  }

  private entry(ip: string): DefenderEntry | undefined {
    const until = this.banned.get(ip);
    if (until !== undefined && until > this.now()) return { id: hostId(ip), ip, ban_time: rfc3339(until) };
    const score = this.getScore(ip);
    if (score > 0) return { id: hostId(ip), ip, score };
    return undefined;
  }

  /** banned hosts and hosts with a score, banned first, then by IP */
  getHosts(): DefenderEntry[] {
    if (!this.enabled) return [];
    const out: DefenderEntry[] = [];
    for (const ip of new Set([...this.banned.keys(), ...this.hosts.keys()])) {
      const e = this.entry(ip);
      if (e) out.push(e);
    }
    return out.sort((a, b) => Number(a.ban_time === undefined) - Number(b.ban_time === undefined) || a.ip.localeCompare(b.ip));
  }

  /** one host; throws NOT_FOUND when it is neither banned nor scored */
  getHost(ipOrAddress: string): DefenderEntry {
    const e = this.enabled ? this.entry(defenderKey(ipOrAddress)) : undefined;
    if (!e) throw new SftpgoError('NOT_FOUND', 'host not found');
    return e;
  }

  /** unbans a host or clears its score; false when the host was not listed */
  deleteHost(ipOrAddress: string): boolean {
    if (!this.enabled) return false;
    const ip = defenderKey(ipOrAddress);
    const wasBanned = this.banned.delete(ip);
    const hadScore = this.hosts.delete(ip);
    if (wasBanned || hadScore) this.log.info({ remote_addr: ip }, 'host removed from the defender lists');
    return wasBanned || hadScore;
  }

  /** hosts tracked in memory (tests, limits) */
  counts(): { hosts: number; banned: number } {
    return { hosts: this.hosts.size, banned: this.banned.size };
  }

  /** over the hard limit: drop expired bans, then the bans ending first down to the soft limit */
  private cleanupBanned(now: number): void {
    if (this.banned.size <= this.cfg.entries_hard_limit) return;
    for (const [ip, until] of this.banned) if (until <= now) this.banned.delete(ip);
    const excess = this.banned.size - this.cfg.entries_soft_limit;
    if (excess <= 0) return;
    const byEnd = [...this.banned].sort((a, b) => a[1] - b[1]).slice(0, excess);
    for (const [ip] of byEnd) this.banned.delete(ip);
  }

  /** over the hard limit: drop the hosts with the oldest last event down to the soft limit */
  private cleanupHosts(): void {
    if (this.hosts.size <= this.cfg.entries_hard_limit) return;
    const excess = this.hosts.size - this.cfg.entries_soft_limit;
    const byLast = [...this.hosts].map(([ip, ev]) => [ip, ev[ev.length - 1]?.at ?? 0] as const).sort((a, b) => a[1] - b[1]);
    for (const [ip] of byLast.slice(0, excess)) this.hosts.delete(ip);
  }
}

/** builds a defender and loads its host lists (throws INVALID_INPUT for a bad list file) */
export async function createDefender(cfg: DefenderSettings, o: DefenderOptions = {}): Promise<Defender> {
  const d = new Defender(cfg, o);
  await d.reload();
  return d;
}
