/**
 * The SSH server (upstream sftpd/server.go at v2.1.2): one TCP listener per enabled binding,
 * ssh2 for the transport, our own authentication (auth.ts), session channels only, and per
 * channel an SFTP subsystem, an SCP command or an SSH command, each a common Connection
 * registered as `SFTP_<hex session id>_<n>`, `SCP_…` or `SSH_…`.
 *
 * We own the listening sockets and hand each accepted socket to ssh2 (`injectSocket`):
 * - TCP_NODELAY on every socket (without it uploads run at ~0.15x OpenSSH,
 *   reference/ssh2-performance.md §4);
 * - the writes of one event-loop turn are corked into one `writev`;
 * - max_per_host_connections is checked before the SSH handshake starts;
 * - the handshake and authentication must complete within 2 minutes.
 */
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { isAbsolute, join } from 'node:path';
import type { Writable } from 'node:stream';
import ssh2 from 'ssh2';
import type { Algorithms, ClientInfo, Connection as SshClient, ServerChannel, Session, SFTPWrapper } from 'ssh2';
import { Connection } from '../common/connection.js';
import type { ConnectionRegistry } from '../common/registry.js';
import { NO_AUTH_TRIED } from '../common/post-login.js';
import { newConnectionId } from '../common/registry.js';
import { frontEndSettings, userFsBuilder, type FrontEndDeps, type ListeningAddress, type ProtocolServer } from '../common/server.js';
import type { ConnectionConfig } from '../common/types.js';
import { acceptProxied, type ClientAddress, type ProxyPolicy } from '../common/proxy-protocol.js';
import type { SftpdConfig } from '../config/index.js';
import type { User } from '../dataprovider/provider.js';
import { exposedMessage, SftpgoError } from '../errors/index.js';
import type { Logger } from '../logger/index.js';
import { checkProgramPath, isHttpHook } from '../util/hooks/program.js';
import { isCertificateAlgo, parseAuthorizedKey } from '../util/ssh-public-keys.js';
import { VERSION } from '../util/version.js';
import type { MountTable } from '../vfs/index.js';
import { effectiveMaxAuthTries, SshAuthenticator, type AuthResult } from './auth.js';
import { loadHostKeys, type HostKey } from './host-keys.js';
import { ScpCommand, parseScpArgs, type ScpArgs } from './scp.js';
import { SftpSession } from './sftp-session.js';
import { shlexSplit } from './shlex.js';
import { SshCommand, SUPPORTED_SSH_COMMANDS } from './ssh-commands.js';
import { clientSocket, sessionIdHex } from './ssh2-internals.js';

const HANDSHAKE_TIMEOUT_MS = 2 * 60 * 1000;

/** what the SSH server is built from (the shape every front end shares) */
export type SftpdDeps = FrontEndDeps;

export interface SshServiceStatus {
  is_active: boolean;
  bindings: { address: string; port: number; apply_proxy_config: boolean }[];
  host_keys: { path: string; fingerprint: string }[];
  ssh_commands: string[];
}

/** `enabled_ssh_commands` as upstream checkSSHCommands: "*" = all, unknown names dropped */
export function resolveSshCommands(list: readonly string[]): { enabled: string[]; unknown: string[] } {
  if (list.includes('*')) return { enabled: [...SUPPORTED_SSH_COMMANDS], unknown: [] };
  const supported = SUPPORTED_SSH_COMMANDS as readonly string[];
  return { enabled: list.filter((c) => supported.includes(c)), unknown: list.filter((c) => !supported.includes(c)) };
}

function checkAlgorithms(key: string, list: readonly string[], supported: readonly string[]): string[] | undefined {
  if (list.length === 0) return undefined;
  const bad = list.filter((a) => !supported.includes(a));
  if (bad.length > 0) {
    throw new SftpgoError('INVALID_INPUT', `sftpd.${key}: unsupported algorithm(s) ${bad.join(', ')}; supported: ${supported.join(', ')}`);
  }
  return [...new Set(list)];
}

interface SupportedAlgorithms {
  SUPPORTED_KEX: string[];
  SUPPORTED_CIPHER: string[];
  SUPPORTED_MAC: string[];
}

/** ssh2's supported algorithm lists (CommonJS constants module, no ESM entry) */
function supportedAlgorithms(): SupportedAlgorithms {
  return createRequire(import.meta.url)('ssh2/lib/protocol/constants.js') as SupportedAlgorithms;
}

/** per-socket state, created when the socket is accepted */
class ClientState {
  lastActivity = Date.now();
  channelCounter = 0;
  /** [defender] an authentication method other than the free "none" probe was tried */
  authTried = false;
  /** [defender] the last public key failure, reported once if the client never authenticates */
  keyFailure: unknown = undefined;
  sessionHex = '';
  clientVersion = '';
  auth: AuthResult | undefined;
  mounts: MountTable | undefined;
  readonly channels = new Set<Connection>();
  handshakeTimer: NodeJS.Timeout | undefined;
  private corked = false;

  constructor(
    readonly socket: Socket,
    readonly remoteIp: string,
    readonly remoteAddress: string,
    readonly localAddress: string,
  ) {}

  /** corks the socket until the end of this event-loop turn: one writev for all replies */
  readonly batch = (): void => {
    if (this.corked || this.socket.destroyed) return;
    this.corked = true;
    this.socket.cork();
    setImmediate(this.uncork);
  };

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };
}

export class SftpServer implements ProtocolServer {
  readonly name = 'sftpd' as const;
  private readonly cfg: Readonly<SftpdConfig>;
  private readonly deps: SftpdDeps;
  private readonly log: Logger;
  private readonly registry: ConnectionRegistry;
  private readonly connConfig: ConnectionConfig;
  private readonly proxy: ProxyPolicy;
  private readonly sshCommands: string[];
  private hostKeys: HostKey[] = [];
  private listeners: { server: NetServer; binding: SftpdConfig['bindings'][number] }[] = [];
  private ssh: ssh2.Server | undefined;
  private readonly clients = new Map<Socket, ClientState>();
  private readonly sshClients = new Set<SshClient>();
  private active = false;
  private trustedCAs: Buffer[] = [];
  /** sftpd.keyboard_interactive_auth_hook once checked at start; '' = the method is off */
  private keyboardInteractiveHook = '';

  constructor(cfg: Readonly<SftpdConfig>, deps: SftpdDeps) {
    this.cfg = cfg;
    this.deps = deps;
    this.log = deps.logger.child({ sender: 'sftpd' });
    ({ registry: this.registry, connConfig: this.connConfig, proxy: this.proxy } = frontEndSettings(deps, 'createSftpd'));
    const cmds = resolveSshCommands(cfg.enabled_ssh_commands);
    for (const u of cmds.unknown) this.log.warn({}, `unsupported ssh command: ${JSON.stringify(u)} ignored`);
    this.sshCommands = cmds.enabled;
  }

  // ------------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    const bindings = this.cfg.bindings.filter((b) => b.port > 0);
    if (bindings.length === 0) throw new SftpgoError('INVALID_INPUT', 'sftpd: no binding configured');
    const supported = supportedAlgorithms();
    const algorithms: Algorithms = {};
    const kex = checkAlgorithms('kex_algorithms', this.cfg.kex_algorithms, supported.SUPPORTED_KEX);
    const cipher = checkAlgorithms('ciphers', this.cfg.ciphers, supported.SUPPORTED_CIPHER);
    const hmac = checkAlgorithms('macs', this.cfg.macs, supported.SUPPORTED_MAC);
    if (kex) algorithms.kex = kex as Algorithms['kex'];
    if (cipher) algorithms.cipher = cipher as Algorithms['cipher'];
    if (hmac) algorithms.hmac = hmac as Algorithms['hmac'];

    this.hostKeys = await loadHostKeys(this.deps.configDir, this.cfg.host_keys, {
      info: (m) => this.log.info({}, m),
      warn: (m) => this.log.warn({}, m),
    });
    this.trustedCAs = await this.loadTrustedCAs();
    this.keyboardInteractiveHook = await this.checkKeyboardInteractiveHook();
    const banner = await this.loadLoginBanner();

    this.ssh = new ssh2.Server({
      hostKeys: this.hostKeys.map((k) => k.privateKey),
      ident: this.cfg.banner || `SFTPGo_${VERSION}`,
      algorithms,
      ...(banner ? { banner } : {}),
    });
    this.ssh.on('connection', (client: SshClient, info: ClientInfo) => this.onConnection(client, info));
    this.ssh.on('error', (e: unknown) => this.log.warn({ err: e }, 'ssh server error'));

    try {
      for (const b of bindings) {
        const applyProxy = b.apply_proxy_config && this.proxy.mode > 0;
        const server = createServer({ noDelay: true }, (socket) => this.onSocket(socket, applyProxy));
        server.on('error', (e) => this.log.error({ err: e }, 'listener error'));
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ port: b.port, host: b.address || undefined }, () => {
            server.off('error', reject);
            resolve();
          });
        });
        this.listeners.push({ server, binding: b });
        this.log.info({}, `server listener registered, address: ${JSON.stringify(server.address())}`);
      }
    } catch (e) {
      await this.stop();
      const addr = e as { code?: string; address?: string; port?: number };
      throw new SftpgoError('INVALID_INPUT', `sftpd: unable to listen: ${addr.code ?? ''} ${String(e)}`, { cause: e });
    }
    this.active = true;
  }

  async stop(): Promise<void> {
    this.active = false;
    const servers = this.listeners.map((l) => l.server);
    this.listeners = [];
    // stop accepting now; the close callbacks fire once the open sockets are gone (below)
    const listenersClosed = Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    const closing = [...this.clients.values()].map((c) => Promise.all([...c.channels].map((ch) => ch.close())));
    await Promise.allSettled(closing);
    for (const client of this.sshClients) client.end();
    const sockets = [...this.clients.keys()];
    await Promise.all(
      sockets.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.destroyed) return resolve();
            const t = setTimeout(() => {
              s.destroy();
              resolve();
            }, 2000);
            s.once('close', () => {
              clearTimeout(t);
              resolve();
            });
          }),
      ),
    );
    await listenersClosed;
  }

  addresses(): ListeningAddress[] {
    return this.listeners.map((l) => {
      const a = l.server.address() as AddressInfo;
      return { address: a.address, port: a.port };
    });
  }

  status(): SshServiceStatus {
    return {
      is_active: this.active,
      bindings: this.listeners.map((l) => ({
        address: l.binding.address,
        port: (l.server.address() as AddressInfo | null)?.port ?? l.binding.port,
        apply_proxy_config: l.binding.apply_proxy_config,
      })),
      host_keys: this.hostKeys.map((k) => ({ path: k.path, fingerprint: k.fingerprint })),
      ssh_commands: [...this.sshCommands],
    };
  }

  // ------------------------------------------------------------------ configuration files

  private resolvePath(p: string): string {
    return isAbsolute(p) ? p : join(this.deps.configDir, p);
  }

  private async loadTrustedCAs(): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for (const p of this.cfg.trusted_user_ca_keys) {
      const file = this.resolvePath(p);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        throw new SftpgoError('INVALID_INPUT', `sftpd.trusted_user_ca_keys: unable to read ${JSON.stringify(file)}`, { cause: e });
      }
      const before = out.length;
      for (const [i, line] of text.split('\n').entries()) {
        const t = line.trim();
        if (t === '' || t.startsWith('#')) continue;
        // a line we cannot read is a config mistake: refuse to start rather than trust fewer CAs than listed
        const where = `sftpd.trusted_user_ca_keys: ${JSON.stringify(file)} line ${i + 1}`;
        const r = parseAuthorizedKey(t);
        if (!r.ok) throw new SftpgoError('INVALID_INPUT', `${where}: ${r.error}`);
        if (isCertificateAlgo(r.key.type)) throw new SftpgoError('INVALID_INPUT', `${where}: a certificate cannot be a CA key`);
        out.push(r.key.blob);
      }
      if (out.length === before) throw new SftpgoError('INVALID_INPUT', `sftpd.trusted_user_ca_keys: no public key in ${JSON.stringify(file)}`);
    }
    return out;
  }

  private async loadLoginBanner(): Promise<string | undefined> {
    if (!this.cfg.login_banner_file) return undefined;
    const file = this.resolvePath(this.cfg.login_banner_file);
    try {
      return await readFile(file, 'utf8');
    } catch (e) {
      // upstream warns and goes on without a banner
      this.log.warn({ err: e }, `unable to read login banner file ${JSON.stringify(file)}`);
      return undefined;
    }
  }

  // ------------------------------------------------------------------ connections

  private onSocket(socket: Socket, applyProxy: boolean): void {
    socket.setNoDelay(true);
    // a client going away (ECONNRESET, EPIPE, ...) is expected: its message says it all, the
    // stack (TCP.onStreamRead) says nothing; logged here once, not again as a client error
    socket.on('error', (e) => this.log.debug({ remote_addr: socket.remoteAddress ?? '', error: e.message }, 'socket error'));
    if (!applyProxy) {
      this.admit(socket, { ip: socket.remoteAddress ?? '', port: socket.remotePort ?? 0, proxied: false });
      return;
    }
    // [PROXY protocol] the client's address comes from the proxy's header, before anything else
    acceptProxied(socket, this.proxy).then(
      (client) => this.admit(socket, client),
      (e: unknown) => {
        this.log.debug({ remote_addr: socket.remoteAddress ?? '', error: exposedMessage(e) }, 'connection refused by the PROXY protocol policy');
        socket.destroy();
      },
    );
  }

  private admit(socket: Socket, client: ClientAddress): void {
    const ip = client.ip;
    if (!this.active || !this.ssh || socket.destroyed) {
      socket.destroy();
      return;
    }
    try {
      this.registry.acceptClient(ip);
    } catch (e) {
      this.log.debug({ remote_addr: ip, error: exposedMessage(e) }, 'connection refused');
      socket.destroy();
      return;
    }
    // [defender / rate limiters] banned or rate-limited hosts are closed before the SSH
    // handshake, as upstream canAcceptConnection; the socket buffers while the gate decides
    const gate = this.deps.gate;
    if (gate) {
      gate.checkConnectionAllowed(ip, 'SSH').then(
        () => this.acceptSocket(socket, ip, client.port),
        (e: unknown) => {
          this.log.debug({ remote_addr: ip, error: exposedMessage(e) }, 'connection refused');
          this.registry.releaseClient(ip);
          socket.destroy();
        },
      );
      return;
    }
    this.acceptSocket(socket, ip, client.port);
  }

  private acceptSocket(socket: Socket, ip: string, port: number): void {
    const ssh = this.ssh;
    if (socket.destroyed || !this.active || !ssh) {
      this.registry.releaseClient(ip);
      socket.destroy();
      return;
    }
    const state = new ClientState(
      socket,
      ip,
      `${ip}:${port}`,
      `${socket.localAddress ?? ''}:${socket.localPort ?? 0}`,
    );
    this.clients.set(socket, state);
    state.handshakeTimer = setTimeout(() => {
      this.log.debug({ remote_addr: ip }, 'handshake/authentication timeout');
      socket.destroy();
    }, HANDSHAKE_TIMEOUT_MS);
    socket.once('close', () => {
      clearTimeout(state.handshakeTimer);
      this.clients.delete(socket);
      this.registry.releaseClient(ip);
      this.reportUnauthenticated(state);
      void this.cleanupClient(state);
    });
    ssh.injectSocket(socket);
    // registered after ssh2 paused the socket, so this does not make it flow early
    socket.on('data', () => {
      state.lastActivity = Date.now();
      state.batch();
    });
  }

  private onConnection(client: SshClient, info: ClientInfo): void {
    const socket = clientSocket(client);
    const state = socket ? this.clients.get(socket) : undefined;
    if (!state) {
      client.end();
      return;
    }
    this.sshClients.add(client);
    state.clientVersion = info.header.identRaw;
    const connLog = this.log.child({ remote_addr: state.remoteAddress });
    client.on('error', (e: Error) => {
      // ssh2 re-emits the socket's errors (level "socket"): the socket handler logged them
      if ((e as { level?: unknown }).level !== 'socket') connLog.debug({ err: e }, 'client error');
    });
    client.on('close', () => this.sshClients.delete(client));
    const auth = new SshAuthenticator(
      client,
      state.remoteIp,
      {
        passwordAuthentication: this.cfg.password_authentication,
        maxAuthTries: effectiveMaxAuthTries(this.cfg.max_auth_tries),
        trustedUserCAs: this.trustedCAs,
        keyboardInteractiveHook: this.keyboardInteractiveHook,
      },
      {
        provider: this.deps.provider,
        registry: this.registry,
        rootLogger: this.deps.logger,
        log: connLog,
        prepare: (u) => this.buildUserFs(u),
        onFailure: (method, err) => this.reportAuthFailure(state, method, err),
        postLogin: this.deps.postLogin,
      },
    );
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'none') state.authTried = true;
      auth.handle(ctx);
    });
    client.on('ready', () => {
      const result = auth.result;
      if (!result) {
        client.end();
        return;
      }
      this.onReady(client, state, result);
    });
    client.on('session', (accept, reject) => {
      if (!state.auth) {
        reject();
        return;
      }
      this.onSession(state, accept());
    });
  }

  private onReady(client: SshClient, state: ClientState, result: AuthResult): void {
    clearTimeout(state.handshakeTimer);
    state.auth = result;
    state.sessionHex = sessionIdHex(client) ?? state.remoteAddress.replace(/\W/g, '');
    const username = result.user.username ?? '';
    const method = result.keyId ? `${result.loginMethod}: ${result.keyId}` : result.loginMethod;
    this.log.info(
      { connection_id: state.sessionHex, username, remote_addr: state.remoteAddress },
      `User ${JSON.stringify(username)} logged in with ${JSON.stringify(method)}, from ip ${JSON.stringify(state.remoteIp)}`,
    );
    this.deps.provider.updateLastLogin(username).catch((e: unknown) => {
      this.log.warn({ err: e, username }, 'unable to update the last login');
    });
    state.mounts = result.mounts;
    if (state.socket.destroyed) {
      // the client left while its filesystem was being prepared
      void this.cleanupClient(state);
      return;
    }
    this.registry.addSshConnection({
      id: state.sessionHex,
      lastActivity: () => state.lastActivity,
      close: () => client.end(),
    });
  }

  /**
   * As upstream: a keyboard-interactive program must be an absolute path that exists, otherwise
   * the method is turned off with a warning (the service still starts); a URL is not checked.
   */
  private async checkKeyboardInteractiveHook(): Promise<string> {
    const hook = this.cfg.keyboard_interactive_auth_hook;
    if (hook === '' || isHttpHook(hook)) return hook;
    try {
      checkProgramPath(hook);
      await stat(hook);
      return hook;
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      this.log.warn({}, `invalid keyboard interactive authentication program: ${why}; keyboard-interactive authentication is disabled`);
      return '';
    }
  }

  // ------------------------------------------------------------------ defender events
  // As upstream sftpd/server.go at v2.1.2: every failed password / keyboard-interactive attempt
  // is an event; public key failures count once, when the client leaves without authenticating
  // (clients routinely offer several keys); a client that never tried to authenticate is a
  // "no login tried" event.

  private reportAuthFailure(state: ClientState, method: string, err: unknown): void {
    const gate = this.deps.gate;
    if (!gate || method === 'none' || method === 'hostbased') return;
    if (method === 'publickey') state.keyFailure = err;
    else gate.reportLoginFailure(state.remoteIp, err);
  }

  private reportUnauthenticated(state: ClientState): void {
    if (state.auth || !this.active) return;
    // [post-login] as upstream checkAuthError: a client gone before trying any method
    if (!state.authTried) {
      this.deps.postLogin?.notify({
        protocol: 'SSH',
        ip: state.remoteIp,
        method: NO_AUTH_TRIED,
        username: '',
        error: new SftpgoError('AUTH_FAILED', 'no authentication tried'),
        noLookup: true,
      });
    }
    const gate = this.deps.gate;
    if (!gate) return;
    if (state.keyFailure !== undefined) gate.reportLoginFailure(state.remoteIp, state.keyFailure);
    else if (!state.authTried) gate.reportNoLoginTried(state.remoteIp);
  }

  private buildUserFs(user: User): Promise<MountTable> {
    // this server knows its own host keys (the SFTP backend's loop guard)
    const own = (): readonly string[] => [
      ...(this.deps.localHostKeyFingerprints?.() ?? []),
      ...this.hostKeys.map((k) => k.fingerprint),
    ];
    return userFsBuilder({ ...this.deps, localHostKeyFingerprints: own }, this.connConfig, this.log)(user);
  }

  private async cleanupClient(state: ClientState): Promise<void> {
    if (state.sessionHex) this.registry.removeSshConnection(state.sessionHex);
    await Promise.allSettled([...state.channels].map((c) => c.close()));
    const mounts = state.mounts;
    state.mounts = undefined;
    if (mounts) {
      try {
        await mounts.close();
      } catch (e) {
        this.log.debug({ err: e }, 'closing the user filesystem');
      }
    }
  }

  // ------------------------------------------------------------------ channels

  private onSession(state: ClientState, session: Session): void {
    const n = ++state.channelCounter;
    // ssh2 drops a request that is not accepted before the client's EOF: accept synchronously
    session.on('sftp', (accept, reject) => this.startSftp(state, n, accept, reject));
    session.on('exec', (accept, _reject, info) => {
      this.startExec(state, n, info.command, accept()).catch((e: unknown) => this.log.error({ err: e }, 'exec failed'));
    });
    // a pty is accepted (nothing is allocated) so that `ssh -t` reaches the shell request and
    // shows why it is refused, instead of failing on the pty
    session.on('pty', (accept) => accept?.());
    session.on('shell', (accept) => {
      const ch = accept();
      void endExec(ch, 1, 'shell access is not supported\n');
    });
  }

  /** a registered common Connection for a channel; throws CONNECTION_DENIED (limits) */
  private newConnection(
    state: ClientState,
    protocol: 'SFTP' | 'SCP' | 'SSH',
    n: number,
    onClose: () => void | Promise<void>,
  ): Connection {
    const auth = state.auth;
    const mounts = state.mounts;
    if (!auth || !mounts) throw new SftpgoError('CONNECTION_DENIED', 'the connection is closing');
    const id = newConnectionId(protocol, state.sessionHex, n);
    const conn = new Connection({
      id,
      protocol,
      user: auth.user,
      mounts,
      remoteAddress: state.remoteAddress,
      localAddress: state.localAddress,
      ...(state.clientVersion ? { clientVersion: state.clientVersion } : {}),
      logger: this.deps.logger.child({
        sender: protocol,
        connection_id: id,
        protocol,
        username: auth.user.username ?? '',
        remote_addr: state.remoteAddress,
      }),
      provider: this.deps.provider,
      config: this.connConfig,
      registry: this.registry,
      onClose,
    });
    conn.register();
    state.channels.add(conn);
    return conn;
  }

  private startSftp(state: ClientState, n: number, accept: () => SFTPWrapper, reject: () => void): void {
    const holder: { session?: SftpSession } = {};
    let conn: Connection;
    try {
      conn = this.newConnection(state, 'SFTP', n, () => holder.session?.close('connection closed'));
    } catch (e) {
      this.log.info({ remote_addr: state.remoteAddress, error: exposedMessage(e) }, 'SFTP subsystem refused');
      reject();
      return;
    }
    const sftp = accept();
    holder.session = new SftpSession({
      sftp,
      conn,
      log: conn.log,
      batch: state.batch,
      onEnd: () => {
        state.channels.delete(conn);
        void conn.close();
      },
    });
  }

  private async startExec(state: ClientState, n: number, command: string, ch: ServerChannel): Promise<void> {
    let words: string[];
    try {
      words = shlexSplit(command);
    } catch (e) {
      words = [];
      this.log.debug({ err: e, command }, 'unparsable command');
    }
    const name = words[0] ?? '';
    const args = words.slice(1);
    const enabled = this.sshCommands.includes(name) && !(name === 'scp' && args.length < 2);
    if (!enabled) {
      this.log.info({ remote_addr: state.remoteAddress, command }, `ssh command not enabled/supported: ${JSON.stringify(name)}`);
      await endExec(ch, 1, `command ${JSON.stringify(name)} is not enabled or not supported\n`);
      return;
    }
    let scpArgs: ScpArgs | undefined;
    if (name === 'scp') {
      try {
        scpArgs = parseScpArgs(args);
      } catch (e) {
        await endExec(ch, 1, `${exposedMessage(e)}\n`);
        return;
      }
    }
    const protocol = scpArgs ? 'SCP' : 'SSH';
    let conn: Connection;
    try {
      conn = this.newConnection(state, protocol, n, () => {
        if (!ch.destroyed) ch.destroy();
      });
    } catch (e) {
      await endExec(ch, 1, `${exposedMessage(e)}\n`);
      return;
    }
    conn.command = command;
    ch.on('error', (e: Error) => conn.log.debug({ err: e }, 'channel error'));
    ch.on('close', () => {
      void conn.close();
    });
    let status = 1;
    const ssh = scpArgs ? undefined : new SshCommand({ channel: ch, conn, command: name, args });
    try {
      status = scpArgs
        ? await new ScpCommand({ channel: ch, conn, user: conn.user, log: conn.log, args }, scpArgs).run()
        : await (ssh as SshCommand).run();
    } catch (e) {
      conn.log.error({ err: e }, 'command failed');
    }
    await endExec(ch, status);
    // scp fires the upload/download actions of its files; every other command, ssh_cmd
    if (ssh) {
      const { path, target } = ssh.actionPaths();
      const error = ssh.error ?? (status === 0 ? undefined : new Error('command failed'));
      await conn.sshCommandEnded(name, path, target, error);
    }
    state.channels.delete(conn);
    await conn.close();
  }
}

/** waits until everything written so far on `w` was handed to the SSH layer */
function flush(ch: ServerChannel, w: Writable): Promise<void> {
  return new Promise((resolve) => {
    const out = (ch as unknown as { outgoing?: { state?: string } }).outgoing;
    if (w.destroyed || w.writableEnded || out?.state !== 'open') {
      resolve();
      return;
    }
    const done = (): void => {
      ch.off('close', done);
      resolve();
    };
    ch.once('close', done);
    w.write(Buffer.alloc(0), () => done());
  });
}

/** writes `stderr` (if any), sends exit-status and ends the channel after the pending output */
async function endExec(ch: ServerChannel, status: number, stderr?: string): Promise<void> {
  try {
    if (stderr) ch.stderr.write(stderr);
    await flush(ch, ch.stderr);
    await flush(ch, ch);
    ch.exit(status);
    ch.end();
  } catch (e) {
    // the client already closed the channel: nothing left to tell it
    void e;
    ch.destroy();
  }
}
