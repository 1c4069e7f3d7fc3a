/**
 * Reads a JSON request body with a size limit (1 MiB for the REST API, as upstream's
 * http.MaxBytesReader). Every failure is a 400 whose message names the problem; nothing here
 * can turn bad input into a 500.
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.js';

export const MAX_JSON_BODY = 1024 * 1024;
/** past this many bytes an oversized body is no longer drained but the connection is dropped */
const MAX_DRAIN = 16 * MAX_JSON_BODY;

function bad(message: string, detail?: string): HttpError {
  return new HttpError(400, message, detail === undefined ? {} : { detail });
}

/** Raw bytes of the body; throws 400 when it exceeds `limit`. */
export async function readRawBody(req: IncomingMessage, limit = MAX_JSON_BODY): Promise<Buffer> {
  const tooLarge = (): HttpError =>
    bad(`request body too large: the limit is ${limit} bytes`, 'http: request body too large');
  const declared = Number(req.headers['content-length']);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        // keep draining so the client can read our answer, up to a point
        if (size > MAX_DRAIN || declared > MAX_DRAIN) break;
        continue;
      }
      chunks.push(chunk);
    }
  } catch (e) {
    throw bad('request body could not be read', e instanceof Error ? e.message : String(e));
  }
  if (size > limit) throw tooLarge();
  return Buffer.concat(chunks, size);
}

/** Parses the body as JSON. An empty body is an error: every JSON endpoint requires one. */
export async function readJsonBody(req: IncomingMessage, limit = MAX_JSON_BODY): Promise<unknown> {
  const raw = await readRawBody(req, limit);
  if (raw.length === 0 || raw.toString('utf8').trim() === '') {
    throw bad('invalid JSON body: the request body is empty', 'EOF');
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch (e) {
    throw bad('invalid JSON body: not valid UTF-8', e instanceof Error ? e.message : undefined);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    throw bad(`invalid JSON body: ${detail}`, detail);
  }
}
