/**
 * The FTP/FTPS server (upstream ftpd/ at v2.1.2, our own protocol layer on node:net/node:tls —
 * see README "Architecture notes" for why not ftp-srv): one TCP listener per enabled binding,
 * admission through the shared connection registry (max connections per host / total) and
 * ConnectionGate (defender, rate limiters), then one FtpSession per control connection.
 */
import { readFile } from 'node:fs/promises';
import { createServer, isIPv4, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { isAbsolute, join } from 'node:path';
import type { Schemas } from '../api/index.js';
import { isPostConnectDenial } from '../common/post-connect.js';
import type { ConnectionRegistry } from '../common/registry.js';
import { newConnectionId } from '../common/registry.js';
import { acceptProxied, type ClientAddress, type ProxyPolicy } from '../common/proxy-protocol.js';
import { frontEndSettings, userFsBuilder, type FrontEndDeps, type ListeningAddress, type ProtocolServer } from '../common/server.js';
import type { ConnectionConfig } from '../common/types.js';
import type { FtpdBinding, FtpdConfig } from '../config/index.js';
import type { User } from '../dataprovider/provider.js';
import { exposedMessage, SftpgoError } from '../errors/index.js';
import type { Logger } from '../logger/index.js';
import { VERSION } from '../util/version.js';
import type { MountTable } from '../vfs/index.js';
import { plainIp } from './data.js';
import { FtpSession, type SessionContext } from './session.js';
import { cipherList } from '../util/tls-ciphers.js';
import { loadTlsMaterial, TlsWrapper, type TlsMaterial } from './tls.js';

/** upstream ftpserverlib ConnectionTimeout as SFTPGo 2.1.2 sets it */
export const DATA_CONNECTION_TIMEOUT_MS = 20_000;

export type FTPServiceStatus = Schemas['FTPServiceStatus'];

export interface FtpdDeps extends FrontEndDeps {
  /** data connection accept/dial/TLS timeout (default 20 s, as upstream); tests shorten it */
  dataTimeoutMs?: number;
}

interface Listener {
  server: NetServer;
  binding: Readonly<FtpdBinding>;
  index: number;
  ctx: SessionContext;
}

export class FtpServer implements ProtocolServer {
  readonly name = 'ftpd' as const;
  private readonly cfg: Readonly<FtpdConfig>;
  private readonly deps: FtpdDeps;
  private readonly log: Logger;
  private readonly registry: ConnectionRegistry;
  private readonly connConfig: ConnectionConfig;
  private listeners: Listener[] = [];
  private readonly sessions = new Set<FtpSession>();
  private readonly sockets = new Set<Socket>();
  private active = false;
  private seq = 0;
  private readonly proxy: ProxyPolicy;

  constructor(cfg: Readonly<FtpdConfig>, deps: FtpdDeps) {
    this.cfg = cfg;
    this.deps = deps;
    this.log = deps.logger.child({ sender: 'ftpd' });
    ({ registry: this.registry, connConfig: this.connConfig, proxy: this.proxy } = frontEndSettings(deps, 'createFtpd'));
  }

  // ------------------------------------------------------------------ lifecycle

  /** the start-up checks of upstream ftpd.Initialize / GetSettings */
  private validate(bindings: readonly FtpdBinding[], tls: TlsMaterial | undefined): void {
    for (const [i, b] of bindings.entries()) {
      if (b.force_passive_ip !== '' && !isIPv4(b.force_passive_ip)) {
        throw new SftpgoError('INVALID_INPUT', `ftpd.bindings[${i}].force_passive_ip: the provided passive IP ${JSON.stringify(b.force_passive_ip)} is not a valid IPv4 address`);
      }
      if (b.tls_mode > 0 && !tls) {
        throw new SftpgoError('INVALID_INPUT', `ftpd.bindings[${i}].tls_mode: to enable TLS you need to provide a certificate (ftpd.certificate_file, ftpd.certificate_key_file)`);
      }
      if (b.client_auth_type > 0 && (!tls || tls.ca.length === 0)) {
        throw new SftpgoError('INVALID_INPUT', `ftpd.bindings[${i}].client_auth_type: client certificate authentication needs a certificate and ftpd.ca_certificates`);
      }
    }
  }

  private tlsWrapper(material: TlsMaterial, b: Readonly<FtpdBinding>, index: number): TlsWrapper {
    const { ciphers, unknown } = cipherList(b.tls_cipher_suites);
    // as upstream, names it does not know are dropped: said once at start
    for (const u of unknown) this.log.warn({}, `ftpd.bindings[${index}].tls_cipher_suites: unsupported cipher suite ${JSON.stringify(u)} ignored`);
    return new TlsWrapper(material, b.client_auth_type, ciphers);
  }

  private async loadBanner(): Promise<string> {
    const fallback = this.cfg.banner || `SFTPGo ${VERSION} ready`;
    if (!this.cfg.banner_file) return fallback;
    const file = isAbsolute(this.cfg.banner_file) ? this.cfg.banner_file : join(this.deps.configDir, this.cfg.banner_file);
    try {
      const text = (await readFile(file, 'utf8')).replace(/\r/g, '').replace(/\n+$/, '');
      return text === '' ? fallback : text;
    } catch (e) {
      // upstream warns and keeps `banner`
      this.log.warn({ err: e }, `unable to read banner file ${JSON.stringify(file)}`);
      return fallback;
    }
  }

  async start(): Promise<void> {
    const bindings = this.cfg.bindings.map((b, index) => ({ b, index })).filter(({ b }) => b.port > 0);
    if (bindings.length === 0) throw new SftpgoError('INVALID_INPUT', 'ftpd: no binding configured');
    const material = await loadTlsMaterial(this.cfg, this.deps.configDir);
    this.validate(
      bindings.map(({ b }) => b),
      material,
    );
    const banner = await this.loadBanner();
    const timeout = this.deps.dataTimeoutMs ?? DATA_CONNECTION_TIMEOUT_MS;
    try {
      for (const { b, index } of bindings) {
        const server = createServer({ noDelay: true });
        const ctx: SessionContext = {
          cfg: this.cfg,
          binding: b,
          tls: material ? this.tlsWrapper(material, b, index) : undefined,
          banner,
          provider: this.deps.provider,
          registry: this.registry,
          gate: this.deps.gate,
          postLogin: this.deps.postLogin,
          connConfig: this.connConfig,
          rootLogger: this.deps.logger,
          log: this.log.child({ binding: index }),
          dataTimeoutMs: timeout,
          buildUserFs: (u) => this.buildUserFs(u),
          listenAddress: `${b.address}:${b.port}`,
          onClosed: (s) => this.sessions.delete(s),
        };
        const l: Listener = { server, binding: b, index, ctx };
        server.on('connection', (s) => this.onSocket(s, l));
        server.on('error', (e) => this.log.error({ err: e }, 'listener error'));
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ port: b.port, host: b.address || undefined }, () => {
            server.off('error', reject);
            resolve();
          });
        });
        const a = server.address() as AddressInfo;
        ctx.listenAddress = `${a.address}:${a.port}`;
        this.listeners.push(l);
        this.log.info({}, `server listener registered, address: ${ctx.listenAddress}, TLS mode: ${b.tls_mode}`);
      }
    } catch (e) {
      await this.stop();
      throw new SftpgoError('INVALID_INPUT', `ftpd: unable to listen: ${String(e)}`, { cause: e });
    }
    this.active = true;
  }

  async stop(): Promise<void> {
    this.active = false;
    const servers = this.listeners.map((l) => l.server);
    this.listeners = [];
    const closed = Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    // a listener's close callback can run before its sockets' 'close' events, whose handlers
    // still log (a TLS handshake cut short): wait for those too, so nothing logs after stop()
    const socketsClosed = [...this.sockets].map((s) =>
      s.closed ? undefined : new Promise<void>((r) => s.once('close', () => r())),
    );
    for (const s of [...this.sessions]) s.destroy();
    for (const s of [...this.sockets]) s.destroy();
    await Promise.all([closed, ...socketsClosed]);
  }

  /**
   * Re-reads the certificate, key, CA and CRL files (SIGHUP, as upstream): connections made from
   * now on use them. A file that cannot be read or parsed keeps the current material and rejects.
   */
  async reloadCertificates(): Promise<void> {
    const material = await loadTlsMaterial(this.cfg, this.deps.configDir);
    if (!material) return;
    for (const l of this.listeners) l.ctx.tls?.update(material);
    this.log.info({}, 'TLS certificates reloaded');
  }

  addresses(): ListeningAddress[] {
    return this.listeners.map((l) => {
      const a = l.server.address() as AddressInfo;
      return { address: a.address, port: a.port };
    });
  }

  status(): FTPServiceStatus {
    return {
      is_active: this.active,
      bindings: this.listeners.map((l) => ({
        address: l.binding.address,
        port: (l.server.address() as AddressInfo | null)?.port ?? l.binding.port,
        apply_proxy_config: l.binding.apply_proxy_config,
        tls_mode: l.binding.tls_mode as 0 | 1 | 2,
        force_passive_ip: l.binding.force_passive_ip,
        client_auth_type: l.binding.client_auth_type,
      })),
      passive_port_range: { start: this.cfg.passive_port_range.start, end: this.cfg.passive_port_range.end },
    };
  }

  /** the open control connections (tests, diagnostics) */
  get sessionCount(): number {
    return this.sessions.size;
  }

  private buildUserFs(user: User): Promise<MountTable> {
    return userFsBuilder(this.deps, this.connConfig, this.log)(user);
  }

  // ------------------------------------------------------------------ connections

  /** refuses a client before the session exists: a 421 (not on implicit TLS) and close */
  private refuse(socket: Socket, l: Listener, ip: string, e: unknown): void {
    this.log.debug({ remote_addr: ip, error: exposedMessage(e) }, 'connection refused');
    if (l.binding.tls_mode !== 2 && !socket.destroyed) {
      // upstream's text for a post-connect rejection
      const text = isPostConnectDenial(e) ? 'Access denied by post connect hook' : `Access denied: ${exposedMessage(e)}`;
      socket.end(`421 ${text}\r\n`);
      setTimeout(() => socket.destroy(), 1000).unref();
    } else socket.destroy();
  }

  private onSocket(socket: Socket, l: Listener): void {
    socket.setNoDelay(true);
    socket.on('error', (e) => this.log.debug({ remote_addr: plainIp(socket.remoteAddress), error: e.message }, 'socket error'));
    if (!this.active) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    if (!l.binding.apply_proxy_config || this.proxy.mode <= 0) {
      this.admit(socket, l, { ip: plainIp(socket.remoteAddress), port: socket.remotePort ?? 0, proxied: false });
      return;
    }
    // [PROXY protocol] the client's address comes from the proxy's header; an FTP server speaks
    // first (but for implicit TLS), so a peer outside proxy_allowed is not waited for
    acceptProxied(socket, this.proxy, { serverSpeaksFirst: l.binding.tls_mode !== 2 }).then(
      (client) => this.admit(socket, l, client),
      (e: unknown) => {
        this.log.debug({ remote_addr: plainIp(socket.remoteAddress), error: exposedMessage(e) }, 'connection refused by the PROXY protocol policy');
        socket.destroy();
      },
    );
  }

  private admit(socket: Socket, l: Listener, client: ClientAddress): void {
    const ip = client.ip;
    if (!this.active || socket.destroyed) {
      socket.destroy();
      return;
    }
    try {
      this.registry.acceptClient(ip);
    } catch (e) {
      this.refuse(socket, l, ip, e);
      return;
    }
    socket.once('close', () => this.registry.releaseClient(ip));
    const go = (): void => this.startSession(socket, l, client);
    const gate = this.deps.gate;
    if (!gate) {
      go();
      return;
    }
    gate.checkConnectionAllowed(ip, 'FTP').then(go, (e: unknown) => this.refuse(socket, l, ip, e));
  }

  private startSession(socket: Socket, l: Listener, client: ClientAddress): void {
    if (socket.destroyed || !this.active) {
      socket.destroy();
      return;
    }
    const id = newConnectionId('FTP', String(l.index), ++this.seq);
    const session = new FtpSession(l.ctx, socket, id, client);
    try {
      session.start();
    } catch (e) {
      this.refuse(socket, l, client.ip, e);
      return;
    }
    this.sessions.add(session);
  }
}
