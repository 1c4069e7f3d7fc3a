/** Small helpers shared by the REST integration tests. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ApiResult, TestServer } from '../../helpers/server.js';

export interface ErrorBody {
  message?: string;
  error?: string;
}

/** asserts the status and that the error message (or the error detail) matches */
export function assertApiError(r: ApiResult, status: number, message: RegExp | string): void {
  const body = r.body as ErrorBody;
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text}`);
  assert.equal(typeof body, 'object', `error body is not JSON: ${r.text}`);
  const text = `${body.message ?? ''} | ${body.error ?? ''}`;
  if (typeof message === 'string') assert.equal(body.message, message, text);
  else assert.match(text, message);
}

export function userBody(s: TestServer, username: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    username,
    password: `pw-${username}-secret`,
    status: 1,
    home_dir: join(s.configDir, 'homes', username),
    permissions: { '/': ['*'] },
    ...extra,
  };
}

export function folderBody(s: TestServer, name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, mapped_path: join(s.configDir, 'folders', name), ...extra };
}

export async function addAdmin(
  s: TestServer,
  username: string,
  permissions: string[],
  extra: Record<string, unknown> = {},
): Promise<{ username: string; password: string; token: () => Promise<string> }> {
  const password = `pw-${username}-secret`;
  const r = await s.api('POST', '/admins', { username, password, status: 1, permissions, ...extra });
  assert.equal(r.status, 201, r.text);
  return { username, password, token: () => s.token(username, password) };
}
