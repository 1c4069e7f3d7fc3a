/**
 * Calling the data provider's login hooks, as SFTPGo 2.1.2 calls them (upstream
 * dataprovider/dataprovider.go: getExternalAuthResponse, getPreLoginHookResponse,
 * getPasswordHookResponse). What to do with their answers is auth.ts's business; this file only
 * builds the call (program environment or HTTP request), runs it and hands back the answer.
 *
 * - A hook whose value starts with "http" is POSTed through the hooks' HTTP client, plain (one
 *   attempt, no retries), reading at most 1 MiB of the answer; anything else is a program run
 *   without arguments, killed after 30 s, whose stdout (at most 1 MiB kept) is the answer.
 * - Every failure (spawn error, non-zero exit, timeout, transport error, unexpected status)
 *   rejects with an Error saying what went wrong; the caller fails the login (fail closed).
 * - `checkLoginHookPaths`: at start, a program hook must be an absolute path that exists,
 *   otherwise the data provider (and so the service) does not start.
 */
import { stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { SftpgoError } from '../../errors/index.js';
import type { HookHttpClient, HookResponse } from '../../util/hooks/http-client.js';
import { redactUrl } from '../../util/hooks/http-client.js';
import { isHttpHook, runProgram } from '../../util/hooks/program.js';
import type { UserLoginMethod, UserLoginProtocol } from '../auth.js';
import type { ProviderLogger } from '../provider.js';

/** the `data_provider` keys of the login hooks */
export interface LoginHooksConfig {
  external_auth_hook: string;
  /** bitmask: 1 password, 2 public key, 4 keyboard-interactive, 8 TLS certificate; 0 all */
  external_auth_scope: number;
  pre_login_hook: string;
  check_password_hook: string;
  /** bitmask: 1 SSH, 2 FTP, 4 WebDAV; 0 all protocols, HTTP included */
  check_password_scope: number;
}

/** upstream's limit for external auth, pre-login and check password programs */
export const LOGIN_HOOK_TIMEOUT_MS = 30_000;
/** at most this much of an answer is read (upstream reads 1 MiB of an HTTP answer) */
export const MAX_HOOK_ANSWER = 1024 * 1024;

const SCOPE_BITS: Record<UserLoginMethod, number> = {
  password: 1,
  publickey: 2,
  'keyboard-interactive': 4,
  TLSCertificate: 8,
};

const PASSWORD_SCOPE_BITS: Partial<Record<UserLoginProtocol, number>> = { SSH: 1, FTP: 2, DAV: 4 };

/**
 * Program hooks must be absolute paths to something that exists (upstream validateHooks at
 * provider init). Throws INVALID_INPUT naming the key.
 */
export async function checkLoginHookPaths(cfg: LoginHooksConfig): Promise<void> {
  for (const key of ['external_auth_hook', 'pre_login_hook', 'check_password_hook'] as const) {
    const hook = cfg[key];
    if (hook === '' || isHttpHook(hook)) continue;
    const bad = (why: string): SftpgoError =>
      new SftpgoError('INVALID_INPUT', `data_provider.${key}: invalid hook: ${why}`);
    if (!isAbsolute(hook)) throw bad(`${JSON.stringify(hook)} must be an absolute path`);
    try {
      await stat(hook);
    } catch (e) {
      throw bad(`${JSON.stringify(hook)}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  }
}

/** stdout of a program, or the body of an HTTP answer, exactly "", "\n" or "\r\n" */
export function isEmptyAnswer(out: string): boolean {
  return out === '' || out === '\n' || out === '\r\n';
}

export interface ExternalAuthCall {
  username: string;
  ip: string;
  /** the typed password, '' for other methods */
  password: string;
  /** the offered key as an authorized_keys line with its trailing newline, or '' */
  publicKey: string;
  protocol: UserLoginProtocol;
  keyboardInteractive: boolean;
  /** the client certificate's PEM, or '' */
  tlsCert: string;
  /** the raw JSON of the stored user, or of the placeholder */
  userJson: string;
}

export interface PreLoginCall {
  userJson: string;
  method: UserLoginMethod;
  ip: string;
  protocol: UserLoginProtocol;
}

export interface CheckPasswordCall {
  username: string;
  password: string;
  ip: string;
  protocol: UserLoginProtocol;
}

export interface CheckPasswordAnswer {
  /** 1 accepted, 2 compare to_verify, -1 as if no hook, anything else refused */
  status: number;
  to_verify: string;
}

export interface LoginHooksOptions {
  config: LoginHooksConfig;
  /** the hooks' HTTP client; without it an HTTP hook fails (closed) */
  http?: HookHttpClient | undefined;
  logger?: ProviderLogger | undefined;
  /** the log sender, `dataprovider_<driver>` as upstream */
  sender: string;
  /** program time limit (tests); default LOGIN_HOOK_TIMEOUT_MS */
  timeoutMs?: number | undefined;
}

export class LoginHooks {
  readonly #cfg: LoginHooksConfig;
  readonly #http: HookHttpClient | undefined;
  readonly #log: ProviderLogger | undefined;
  readonly #sender: string;
  readonly #timeoutMs: number;

  constructor(o: LoginHooksOptions) {
    this.#cfg = o.config;
    this.#http = o.http;
    this.#log = o.logger;
    this.#sender = o.sender;
    this.#timeoutMs = o.timeoutMs ?? LOGIN_HOOK_TIMEOUT_MS;
  }

  /** the external auth hook is set and its scope covers `method` */
  externalAuthApplies(method: UserLoginMethod): boolean {
    const scope = this.#cfg.external_auth_scope;
    return (
      this.#cfg.external_auth_hook !== '' && (scope === 0 || (scope & SCOPE_BITS[method]) !== 0)
    );
  }

  get preLoginEnabled(): boolean {
    return this.#cfg.pre_login_hook !== '';
  }

  /** the check password hook is set and its scope covers `protocol` (0: all, HTTP included) */
  checkPasswordApplies(protocol: UserLoginProtocol): boolean {
    const scope = this.#cfg.check_password_scope;
    if (this.#cfg.check_password_hook === '') return false;
    if (scope === 0) return true;
    return (scope & (PASSWORD_SCOPE_BITS[protocol] ?? 0)) !== 0;
  }

  debug(msg: string, fields: object = {}): void {
    this.#log?.debug({ sender: this.#sender, ...fields }, msg);
  }

  info(msg: string, fields: object = {}): void {
    this.#log?.info({ sender: this.#sender, ...fields }, msg);
  }

  warn(msg: string, fields: object = {}): void {
    this.#log?.warn({ sender: this.#sender, ...fields }, msg);
  }

  /** the external auth hook's answer (stdout or 200 body) */
  async externalAuth(c: ExternalAuthCall): Promise<string> {
    const hook = this.#cfg.external_auth_hook;
    if (!isHttpHook(hook)) {
      return this.#program(hook, {
        SFTPGO_AUTHD_USERNAME: c.username,
        SFTPGO_AUTHD_USER: c.userJson,
        SFTPGO_AUTHD_IP: c.ip,
        SFTPGO_AUTHD_PASSWORD: c.password,
        SFTPGO_AUTHD_PUBLIC_KEY: c.publicKey,
        SFTPGO_AUTHD_PROTOCOL: c.protocol,
        SFTPGO_AUTHD_TLS_CERT: c.tlsCert.replace(/\n/g, '\\n'),
        SFTPGO_AUTHD_KEYBOARD_INTERACTIVE: c.keyboardInteractive ? '1' : '',
      });
    }
    // a map[string]string upstream: every key present, sorted, all strings
    const body = JSON.stringify({
      ip: c.ip,
      keyboard_interactive: c.keyboardInteractive ? '1' : '',
      password: c.password,
      protocol: c.protocol,
      public_key: c.publicKey,
      tls_cert: c.tlsCert,
      user: c.userJson,
      username: c.username,
    });
    const res = await this.#post(hook, body);
    this.debug(`external auth hook executed, response code: ${res.status}`);
    if (res.status !== 200) {
      throw new Error(`wrong external auth http status code: ${res.status}, expected 200`);
    }
    return res.body.toString('utf8');
  }

  /** the pre-login hook's answer: stdout, the 200 body, or '' for a 204 */
  async preLogin(c: PreLoginCall): Promise<string> {
    const hook = this.#cfg.pre_login_hook;
    if (!isHttpHook(hook)) {
      return this.#program(hook, {
        SFTPGO_LOGIND_USER: c.userJson,
        SFTPGO_LOGIND_METHOD: c.method,
        SFTPGO_LOGIND_IP: c.ip,
        SFTPGO_LOGIND_PROTOCOL: c.protocol,
      });
    }
    const res = await this.#post(hook, c.userJson, {
      ip: c.ip,
      login_method: c.method,
      protocol: c.protocol,
    });
    if (res.status === 204) return '';
    if (res.status !== 200) {
      throw new Error(`wrong pre-login hook http status code: ${res.status}, expected 200`);
    }
    return res.body.toString('utf8');
  }

  /** the check password hook's decoded answer */
  async checkPassword(c: CheckPasswordCall): Promise<CheckPasswordAnswer> {
    const hook = this.#cfg.check_password_hook;
    let out: string;
    if (!isHttpHook(hook)) {
      out = await this.#program(hook, {
        SFTPGO_AUTHD_USERNAME: c.username,
        SFTPGO_AUTHD_PASSWORD: c.password,
        SFTPGO_AUTHD_IP: c.ip,
        SFTPGO_AUTHD_PROTOCOL: c.protocol,
      });
    } else {
      const body = JSON.stringify({
        username: c.username,
        ip: c.ip,
        password: c.password,
        protocol: c.protocol,
      });
      const res = await this.#post(hook, body);
      if (res.status !== 200) {
        // upstream's message, typo included
        throw new Error(
          `wrong http status code from chek password hook: ${res.status}, expected 200`,
        );
      }
      out = res.body.toString('utf8');
    }
    return decodeCheckPasswordAnswer(out);
  }

  async #program(hook: string, env: Record<string, string>): Promise<string> {
    const r = await runProgram(hook, {
      env,
      timeoutMs: this.#timeoutMs,
      maxStdout: MAX_HOOK_ANSWER,
    });
    return r.stdout;
  }

  #post(url: string, body: string, query?: Record<string, string>): Promise<HookResponse> {
    if (this.#http === undefined) {
      return Promise.reject(new Error(`no HTTP client for the hook ${redactUrl(url)}`));
    }
    return this.#http.request({
      method: 'POST',
      url,
      body,
      retryable: false,
      maxBody: MAX_HOOK_ANSWER,
      ...(query === undefined ? {} : { query }),
    });
  }
}

/** `{"status": int, "to_verify": string}`; unknown keys ignored, anything else an error */
export function decodeCheckPasswordAnswer(out: string): CheckPasswordAnswer {
  let v: unknown;
  try {
    v = JSON.parse(out);
  } catch (e) {
    throw new Error(`invalid check password hook response: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new Error('invalid check password hook response: not a JSON object');
  }
  const r = v as Record<string, unknown>;
  const status = r['status'] ?? 0;
  const toVerify = r['to_verify'] ?? '';
  if (typeof status !== 'number' || !Number.isInteger(status) || typeof toVerify !== 'string') {
    throw new Error('invalid check password hook response: wrong field types');
  }
  return { status, to_verify: toVerify };
}
