/**
 * What the web admin's form pages share: turning a failed save into the message next to its
 * field (the error's JSON path, SftpgoError.field or HttpError.field, mapped to the input) plus
 * a summary at the top, paging of the lists, and the fixed texts of the messages shown after
 * a redirect (`?ok=<code>`: no text from the URL reaches the page).
 */
import { SftpgoError } from '../../../errors/index.js';
import { HttpError } from '../../errors.js';
import { errorText, type FlashMessage, type WebCtx } from '../kit.js';
import { inputForField } from './forms.js';

/** what a form page renders: its mode, the values shown and, after a failed save, the errors */
export interface FormState {
  mode: 'add' | 'edit';
  values: URLSearchParams;
  errors?: Record<string, string>;
  summary?: string;
  status?: number;
}

export interface FormFailure {
  summary: string;
  errors: Record<string, string>;
  status: number;
}

/** a failure the form can show (bad input, duplicate, gone), else undefined: the caller rethrows */
export function formFailure(e: unknown, vfRows: readonly number[] = []): FormFailure | undefined {
  let status: number;
  let field: string | undefined;
  if (HttpError.is(e) && e.status >= 400 && e.status < 500) {
    status = e.status;
    field = e.field;
  } else if (
    SftpgoError.is(e) &&
    (e.code === 'INVALID_INPUT' || e.code === 'ALREADY_EXISTS' || e.code === 'NOT_FOUND')
  ) {
    status = e.code === 'ALREADY_EXISTS' ? 409 : e.code === 'NOT_FOUND' ? 404 : 400;
    field = e.field ?? (e.code === 'ALREADY_EXISTS' ? 'username' : undefined);
  } else {
    return undefined;
  }
  const summary = errorText(e);
  const input = field === undefined ? undefined : inputForField(field, vfRows);
  return { summary, errors: input === undefined ? {} : { [input]: summary }, status };
}

const OK_TEXT: Readonly<Record<string, string>> = {
  'user-added': 'User added',
  'user-updated': 'User updated',
  'user-deleted': 'User deleted',
  'folder-added': 'Folder added',
  'folder-updated': 'Folder updated',
  'folder-deleted': 'Folder deleted',
  'admin-added': 'Admin added',
  'admin-updated': 'Admin updated',
  'admin-deleted': 'Admin deleted',
  'scan-started': 'Quota scan started',
  'conn-closed': 'Connection closed',
  'host-unbanned': 'Host removed from the defender list',
  restored: 'Data restored',
  'pwd-changed': 'Password changed',
};

/** the confirmation of the action that redirected here (`?ok=user-added`), if any */
export function flashFromQuery(ctx: WebCtx): FlashMessage[] {
  const code = typeof ctx.query['ok'] === 'string' ? ctx.query['ok'] : '';
  const text = OK_TEXT[code];
  return text === undefined ? [] : [{ kind: 'success', text }];
}

export const PAGE_SIZE = 25;

/** `?page=` (1-based); anything else is page 1 */
export function pageParam(ctx: WebCtx): number {
  const raw = typeof ctx.query['page'] === 'string' ? ctx.query['page'] : '1';
  const n = /^\d{1,6}$/.test(raw) ? Number(raw) : 1;
  return n >= 1 ? n : 1;
}

/**
 * one page of a list read through the provider's paged getter, optionally keeping only the
 * names containing `search` (case-insensitive: the provider has no filter, so the pages are
 * read in turn until the requested one is filled)
 */
export async function searchPage<T>(
  fetchPage: (o: { limit: number; offset: number }) => Promise<T[]>,
  nameOf: (item: T) => string,
  search: string,
  page: number,
): Promise<{ items: T[]; hasNext: boolean }> {
  const start = (page - 1) * PAGE_SIZE;
  if (search === '') {
    const rows = await fetchPage({ limit: PAGE_SIZE + 1, offset: start });
    return { items: rows.slice(0, PAGE_SIZE), hasNext: rows.length > PAGE_SIZE };
  }
  const needle = search.toLowerCase();
  const found: T[] = [];
  const batch = 500;
  for (let offset = 0; found.length <= start + PAGE_SIZE; offset += batch) {
    const rows = await fetchPage({ limit: batch, offset });
    for (const r of rows) if (nameOf(r).toLowerCase().includes(needle)) found.push(r);
    if (rows.length < batch) break;
  }
  return {
    items: found.slice(start, start + PAGE_SIZE),
    hasNext: found.length > start + PAGE_SIZE,
  };
}
