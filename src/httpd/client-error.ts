/**
 * Answers for what Node's HTTP layer refuses before any route sees a request: a malformed
 * request line or header (400), a request not received within headersTimeout/requestTimeout
 * (408), chunk extensions past the parser's limit (413), headers past `httpd.max_header_bytes`
 * (431). Node's default answer is a bare status line with an empty body; API clients expect the
 * ApiResponse JSON shape on every error, so these go through the same formatter as the routes'
 * errors (mapError of the error middleware).
 */
import type { Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HttpdLogger } from './context.js';
import { HttpError } from './errors.js';
import { mapError } from './middleware/errors.js';
import { statusText } from './http-map.js';

/** the error Node passes to 'clientError': llhttp errors carry `code` (HPE_*) and `reason` */
export interface ClientError extends Error {
  code?: string;
  reason?: string;
}

/** what Node's own clientError default would answer, and why, in the API's words */
export function clientErrorAsHttpError(e: ClientError, maxHeaderBytes: number): HttpError {
  const reason = e.reason ?? e.message;
  const refusal = (status: number, detail: string): HttpError =>
    new HttpError(status, statusText(status), { detail, cause: e });
  if (e.code === 'HPE_HEADER_OVERFLOW') {
    return refusal(431, `the request line and headers exceed ${maxHeaderBytes} bytes`);
  }
  if (e.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') {
    return refusal(413, `chunk extensions too large: ${reason}`);
  }
  if (e.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return refusal(408, 'the request was not received completely in time');
  }
  return refusal(400, `malformed HTTP request: ${reason}`);
}

/** the raw HTTP/1.1 response for a client error: ApiResponse JSON, connection closed after it */
export function clientErrorResponse(
  e: ClientError,
  maxHeaderBytes: number,
): { status: number; bytes: Buffer } {
  const mapped = mapError(clientErrorAsHttpError(e, maxHeaderBytes));
  const body = Buffer.from(JSON.stringify(mapped.body));
  const head = [
    `HTTP/1.1 ${mapped.status} ${statusText(mapped.status)}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${body.length}`,
    ...Object.entries(mapped.headers).map(([k, v]) => `${k}: ${v}`),
    'Connection: close',
    '',
    '',
  ].join('\r\n');
  return { status: mapped.status, bytes: Buffer.concat([Buffer.from(head, 'latin1'), body]) };
}

/**
 * Replaces Node's default 'clientError' answer on `server`. The parser of the connection is
 * in an error state, so the connection ends with the answer; before it, the responses to the
 * requests that were read whole (pipelined ahead of the bad bytes) still go out, in order.
 * Where the answer cannot be written (peer gone, socket ended) the socket is only destroyed.
 */
export function answerClientErrors(
  server: Server,
  o: { logger: HttpdLogger; maxHeaderBytes: number },
): void {
  // responses in progress per socket (pipelining can queue several); public API only, where
  // Node's own check reads the private socket._httpMessage
  const inFlight = new WeakMap<Duplex, Set<ServerResponse>>();
  // sockets already being refused: the failed parser repeats its error for every later chunk
  // and at the end of the stream
  const refused = new WeakSet<Duplex>();

  server.on('request', (req, res: ServerResponse) => {
    const socket = req.socket;
    let set = inFlight.get(socket);
    if (set === undefined) {
      set = new Set();
      inFlight.set(socket, set);
    }
    const live = set;
    live.add(res);
    res.once('close', () => live.delete(res));
  });

  function refuse(e: ClientError, socket: Duplex): void {
    if (socket.destroyed || !socket.writable) {
      socket.destroy();
      return;
    }
    const { status, bytes } = clientErrorResponse(e, o.maxHeaderBytes);
    const remote = (socket as { remoteAddress?: string }).remoteAddress;
    o.logger.debug(
      { remote_addr: remote, code: e.code, status, reason: e.reason ?? e.message },
      'HTTP request refused by the parser',
    );
    socket.write(bytes);
    // as Node's default: the bytes are handed to the kernel at once (a small write on an idle
    // socket), and nothing more can be parsed from this connection
    socket.destroy();
  }

  server.on('clientError', (e: ClientError, socket: Duplex) => {
    if (refused.has(socket)) return;
    refused.add(socket);
    if (e.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    // Answered first: requests read whole, and any response already begun (writing ours into
    // the middle of one would corrupt it). A request cut by the error (its body unreadable or
    // late) is the one the refusal answers; its handler's response is abandoned.
    const ahead = [...(inFlight.get(socket) ?? [])].filter(
      (r) => !r.writableFinished && (r.req.complete || r.headersSent),
    );
    if (ahead.length === 0) {
      refuse(e, socket);
      return;
    }
    // stop feeding the failed parser while the answers go out
    socket.pause();
    let left = ahead.length;
    for (const r of ahead) {
      const done = (): void => {
        r.off('finish', done);
        r.off('close', done);
        left -= 1;
        if (left === 0) refuse(e, socket);
      };
      r.once('finish', done);
      r.once('close', done);
    }
  });
}
