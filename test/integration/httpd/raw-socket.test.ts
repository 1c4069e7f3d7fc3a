/**
 * The HTTP layer under raw sockets (node:net), where fetch cannot go: requests whose sender
 * half-closes its side right after the request (`shutdown(SHUT_WR)`, as `nc -N`, proxies and
 * health checkers do) must still get their whole response, and what Node's HTTP parser itself
 * refuses (oversized headers, malformed request lines, chunk extensions past the limit) gets
 * the API's JSON error shape instead of an empty body.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { basicAuth, startServer, type TestServer } from '../../helpers/server.js';
import { userBody, type ErrorBody } from './util.js';

interface RawResponse {
  status: number;
  /** lower-cased names */
  headers: Record<string, string>;
  body: string;
  /** everything the server sent, for assertion messages */
  raw: string;
}

/** decodes a chunked body; throws when it is cut short */
function dechunk(data: string): string {
  let out = '';
  let rest = data;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    if (eol < 0) throw new Error(`truncated chunked body: ${JSON.stringify(data.slice(0, 200))}`);
    const size = parseInt(rest.slice(0, eol).split(';')[0] ?? '', 16);
    if (Number.isNaN(size))
      throw new Error(`bad chunk size in ${JSON.stringify(data.slice(0, 200))}`);
    if (size === 0) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

/** parses one HTTP/1.1 response; throws (with what arrived) when none or only part of one came */
function parseResponse(raw: string): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0)
    throw new Error(`no complete response head received: ${JSON.stringify(raw.slice(0, 300))}`);
  const [statusLine = '', ...lines] = raw.slice(0, end).split('\r\n');
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(statusLine);
  if (!m?.[1]) throw new Error(`bad status line: ${JSON.stringify(statusLine)}`);
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  let body = raw.slice(end + 4);
  if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
  else if (headers['content-length'] !== undefined) {
    const len = Number(headers['content-length']);
    assert.equal(
      Buffer.byteLength(body),
      len,
      `body cut short: ${JSON.stringify(raw.slice(0, 300))}`,
    );
  }
  return { status: Number(m[1]), headers, body, raw };
}

/**
 * Writes `request` on a fresh connection, then (halfClose) shuts the write side at once, and
 * collects what the server sends until it closes. A reset after the answer counts as a close:
 * what matters is what was received.
 */
async function rawRequest(
  port: number,
  request: string,
  o: { halfClose?: boolean; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(
          `no close from the server in ${o.timeoutMs ?? 10_000} ms; received ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 300))}`,
        ),
      );
    }, o.timeoutMs ?? 10_000);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => {
      // ECONNRESET/EPIPE when the server closes on an oversized request it did not read:
      // the answer already received is what the assertions look at
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.on('end', () => socket.end());
    // the shutdown goes out once the request has been handed to the kernel, in its own
    // segment, as `nc -N` does when its input ends
    socket.write(request, () => {
      if (o.halfClose) socket.end();
    });
  });
}

/** `parserError`: the connection cannot go on, and the answer says so */
function assertJsonError(
  r: RawResponse,
  status: number,
  message: RegExp,
  parserError = true,
): void {
  assert.equal(r.status, status, r.raw.slice(0, 300));
  assert.match(r.headers['content-type'] ?? '', /^application\/json/, r.raw.slice(0, 300));
  if (parserError) assert.equal(r.headers.connection, 'close');
  const body = JSON.parse(r.body) as ErrorBody;
  assert.equal(typeof body.message, 'string');
  assert.equal(typeof body.error, 'string');
  assert.match(`${body.message ?? ''} | ${body.error ?? ''}`, message);
}

void describe('httpd: raw sockets', () => {
  let s: TestServer;
  let port: number;
  const user = 'rawsock';

  before(async () => {
    s = await startServer();
    port = Number(new URL(s.httpUrl).port);
    const r = await s.api('POST', '/users', userBody(s, user));
    assert.equal(r.status, 201, r.text);
  });
  after(async () => {
    await s.stop();
  });

  void describe('half-closed requests get their whole response', () => {
    const get = (path: string, headers: Record<string, string> = {}): string =>
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('')}\r\n`;

    void it('GET /healthz', async () => {
      const r = parseResponse(await rawRequest(port, get('/healthz'), { halfClose: true }));
      assert.equal(r.status, 200, r.raw);
      assert.equal(r.body, 'ok');
    });

    void it('GET /api/v2/token (admin basic auth, password hashing)', async () => {
      const r = parseResponse(
        await rawRequest(
          port,
          get('/api/v2/token', { Authorization: basicAuth(s.admin.username, s.admin.password) }),
          {
            halfClose: true,
          },
        ),
      );
      assert.equal(r.status, 200, r.raw);
      const token = (JSON.parse(r.body) as { access_token: string }).access_token;
      const users = await s.api('GET', '/users', undefined, token);
      assert.equal(users.status, 200);
    });

    void it('GET /api/v2/user/token (user basic auth)', async () => {
      const r = parseResponse(
        await rawRequest(
          port,
          get('/api/v2/user/token', { Authorization: basicAuth(user, `pw-${user}-secret`) }),
          {
            halfClose: true,
          },
        ),
      );
      assert.equal(r.status, 200, r.raw);
      assert.match(
        (JSON.parse(r.body) as { access_token: string }).access_token,
        /^[\w-]+\.[\w-]+\.[\w-]+$/,
      );
    });

    void it('GET /api/v2/user/token with a wrong password: 401', async () => {
      const r = parseResponse(
        await rawRequest(
          port,
          get('/api/v2/user/token', { Authorization: basicAuth(user, 'wrong') }),
          {
            halfClose: true,
          },
        ),
      );
      assertJsonError(r, 401, /Unauthorized/, false);
    });

    void it('GET /api/v2/dumpdata?output-data=1 (bearer token)', async () => {
      const token = await s.adminToken();
      const r = parseResponse(
        await rawRequest(
          port,
          get('/api/v2/dumpdata?output-data=1', { Authorization: `Bearer ${token}` }),
          {
            halfClose: true,
          },
        ),
      );
      assert.equal(r.status, 200, r.raw.slice(0, 300));
      const dump = JSON.parse(r.body) as { users: { username: string }[] };
      assert.ok(
        dump.users.some((u) => u.username === user),
        r.body.slice(0, 300),
      );
    });

    void it('POST with a body, then half-close: the body is read and answered', async () => {
      const token = await s.adminToken();
      const body = JSON.stringify({
        name: 'rawfold',
        mapped_path: `${s.configDir}/folders/rawfold`,
      });
      const req =
        `POST /api/v2/folders HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
      const r = parseResponse(await rawRequest(port, req, { halfClose: true }));
      assert.equal(r.status, 201, r.raw);
      assert.equal((await s.api('GET', '/folders/rawfold')).status, 200);
    });

    void it('two pipelined requests, then half-close: both are answered in order', async () => {
      const raw = await rawRequest(
        port,
        `${get('/api/v2/token', { Authorization: basicAuth(s.admin.username, s.admin.password) })}${get('/healthz')}`,
        {
          halfClose: true,
        },
      );
      const first = raw.indexOf('HTTP/1.1 200');
      const second = raw.indexOf('HTTP/1.1 200', first + 1);
      assert.ok(first === 0 && second > 0, raw);
      assert.match(raw.slice(0, second), /access_token/);
      assert.equal(parseResponse(raw.slice(second)).body, 'ok');
    });
  });

  void describe('errors of the HTTP parser are JSON ApiResponses', () => {
    const withHeader = (size: number): string =>
      `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Padding: ${'a'.repeat(size)}\r\n\r\n`;

    void it('headers of 100 KiB: 431', async () => {
      const r = parseResponse(await rawRequest(port, withHeader(100 * 1024)));
      assertJsonError(r, 431, /Request Header Fields Too Large/);
    });

    void it('headers of 40 KiB are served', async () => {
      const r = parseResponse(await rawRequest(port, withHeader(40 * 1024)));
      assert.equal(r.status, 200, r.raw.slice(0, 300));
      assert.equal(r.body, 'ok');
    });

    void it('headers of 40 KiB reach an API route', async () => {
      const token = await s.adminToken();
      const req =
        `GET /api/v2/users/${user} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n` +
        `Authorization: Bearer ${token}\r\nCookie: ${'c'.repeat(40 * 1024)}\r\n\r\n`;
      const r = parseResponse(await rawRequest(port, req));
      assert.equal(r.status, 200, r.raw.slice(0, 300));
      assert.equal((JSON.parse(r.body) as { username: string }).username, user);
    });

    void it('a malformed request line: 400', async () => {
      const r = parseResponse(await rawRequest(port, 'this is not HTTP\r\n\r\n'));
      assertJsonError(r, 400, /Bad Request/);
    });

    void it('a malformed header line after a valid request line: 400', async () => {
      const r = parseResponse(
        await rawRequest(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n'),
      );
      assertJsonError(r, 400, /Bad Request/);
    });

    void it('a malformed request half-closed: 400', async () => {
      const r = parseResponse(
        await rawRequest(port, 'GET /healthz HTTP/9.9.9\r\n\r\n', { halfClose: true }),
      );
      assertJsonError(r, 400, /Bad Request/);
    });

    void it('chunk extensions over the parser limit: 413', async () => {
      // the limit Node enforces on a body: 16 KiB of chunk extensions
      const req =
        `POST /api/v2/folders HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n` +
        `Content-Type: application/json\r\n\r\n2;ext=${'e'.repeat(20 * 1024)}\r\n{}\r\n0\r\n\r\n`;
      const r = parseResponse(await rawRequest(port, req));
      assertJsonError(r, 413, /Request Entity Too Large|Payload Too Large/);
    });

    void it('a slow request (password hashing) ahead of bad bytes is answered before the 400', async () => {
      const login = `GET /api/v2/token HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${basicAuth(s.admin.username, s.admin.password)}\r\n\r\n`;
      const raw = await rawRequest(port, `${login}NOT HTTP\r\n\r\n`);
      const second = raw.indexOf('HTTP/1.1 400');
      assert.ok(raw.startsWith('HTTP/1.1 200') && second > 0, raw);
      assert.match(raw.slice(0, second), /access_token/);
      assertJsonError(parseResponse(raw.slice(second)), 400, /Bad Request/);
    });

    void it('a keep-alive connection still works after a good request, and a bad one is answered', async () => {
      const raw = await rawRequest(port, `GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nBROKEN\r\n\r\n`);
      const second = raw.indexOf('HTTP/1.1 400');
      assert.ok(raw.startsWith('HTTP/1.1 200') && second > 0, raw);
      assertJsonError(parseResponse(raw.slice(second)), 400, /Bad Request/);
    });
  });
});

void describe('httpd: httpd.max_header_bytes', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ config: { httpd: { max_header_bytes: 8192 } } });
  });
  after(async () => {
    await s.stop();
  });

  void it('refuses headers past the configured limit, naming it', async () => {
    const port = Number(new URL(s.httpUrl).port);
    const req = (size: number): string =>
      `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Padding: ${'a'.repeat(size)}\r\n\r\n`;
    const small = parseResponse(await rawRequest(port, req(6 * 1024)));
    assert.equal(small.status, 200, small.raw);
    const large = parseResponse(await rawRequest(port, req(10 * 1024)));
    assertJsonError(large, 431, /exceed 8192 bytes/);
  });
});
