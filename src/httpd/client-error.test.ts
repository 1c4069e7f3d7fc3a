import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { answerClientErrors, clientErrorResponse, type ClientError } from './client-error.js';
import type { HttpdLogger } from './context.js';

const quiet: HttpdLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => quiet,
};

function parserError(code: string, reason: string): ClientError {
  return Object.assign(new Error(`Parse Error: ${reason}`), { code, reason });
}

/** sends `first`, then `rest` after `pauseMs`; collects everything the server sends until it closes */
async function exchange(port: number, first: string, pauseMs = 0, rest = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no close from the server'));
    }, 10_000);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.write(first);
    if (rest !== '') setTimeout(() => socket.write(rest), pauseMs).unref();
  });
}

function bodyOf(raw: string): unknown {
  return JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
}

void describe('clientErrorResponse', () => {
  const cases: [ClientError, number, string, RegExp][] = [
    [
      parserError('HPE_HEADER_OVERFLOW', 'Header overflow'),
      431,
      'Request Header Fields Too Large',
      /exceed 65536 bytes/,
    ],
    [
      parserError('HPE_CHUNK_EXTENSIONS_OVERFLOW', 'Chunk extensions overflow'),
      413,
      'Request Entity Too Large',
      /chunk extensions/,
    ],
    [
      Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }),
      408,
      'Request Timeout',
      /in time/,
    ],
    [
      parserError('HPE_INVALID_METHOD', 'Invalid method encountered'),
      400,
      'Bad Request',
      /Invalid method encountered/,
    ],
    [
      parserError('HPE_INVALID_EOF_STATE', 'Invalid EOF state'),
      400,
      'Bad Request',
      /Invalid EOF state/,
    ],
  ];
  for (const [e, status, message, detail] of cases) {
    void it(`${e.code ?? ''} -> ${status}`, () => {
      const r = clientErrorResponse(e, 65536);
      const raw = r.bytes.toString('latin1');
      assert.equal(r.status, status);
      assert.ok(raw.startsWith(`HTTP/1.1 ${status} ${message}\r\n`), raw);
      assert.match(raw, /\r\nConnection: close\r\n/);
      assert.match(raw, /\r\nContent-Type: application\/json; charset=utf-8\r\n/);
      const length = Number(/\r\nContent-Length: (\d+)\r\n/.exec(raw)?.[1]);
      const body = bodyOf(raw) as { message: string; error: string };
      assert.equal(length, Buffer.byteLength(JSON.stringify(body)));
      assert.equal(body.message, message);
      assert.match(body.error, detail);
    });
  }
});

void describe('answerClientErrors on a server with short timeouts', () => {
  let server: Server;
  let port: number;
  before(async () => {
    server = createServer(
      // checked every 100 ms instead of Node's 30 s, so the timeouts fire within the test
      { headersTimeout: 300, requestTimeout: 600, connectionsCheckingInterval: 100 },
      (req, res) => {
        // reads the body before answering, as the JSON routes do
        req.resume();
        req.on('end', () => res.end('done'));
      },
    );
    answerClientErrors(server, { logger: quiet, maxHeaderBytes: 16384 });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((res) => server.close(res));
  });

  void it('headers not complete in time: 408 with an ApiResponse body', async () => {
    const raw = await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\n');
    assert.ok(raw.startsWith('HTTP/1.1 408 Request Timeout\r\n'), raw);
    assert.deepEqual(bodyOf(raw), {
      message: 'Request Timeout',
      error: 'the request was not received completely in time',
    });
  });

  void it('a body not complete in time: 408, the handler waiting for it is abandoned', async () => {
    const raw = await exchange(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc');
    assert.ok(raw.startsWith('HTTP/1.1 408 Request Timeout\r\n'), raw);
    assert.equal(raw.match(/HTTP\/1\.1 /g)?.length, 1, raw);
  });

  void it('a complete request ahead of bad bytes is answered first', async () => {
    const raw = await exchange(
      port,
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcNOT HTTP\r\n\r\n',
    );
    assert.ok(raw.startsWith('HTTP/1.1 200 OK\r\n'), raw);
    const second = raw.indexOf('HTTP/1.1 400 Bad Request\r\n');
    assert.ok(second > 0 && raw.slice(0, second).endsWith('done'), raw);
  });

  void it('the body sent in time is served', async () => {
    const raw = await exchange(
      port,
      'POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 6\r\n\r\nabc',
      50,
      'def',
    );
    assert.ok(raw.startsWith('HTTP/1.1 200 OK\r\n'), raw);
    assert.ok(raw.endsWith('done'), raw);
  });
});
