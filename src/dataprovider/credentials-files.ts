/**
 * Google Cloud Storage credentials files (data_provider.credentials_path and
 * prefer_database_credentials), mirroring upstream dataprovider.go at v2.1.2 (saveGCSCredentials,
 * addCredentialsToUser, addFolderCredentialsToUser):
 *
 * - save, prefer_database_credentials false (the default): the encrypted Secret JSON of a GCS
 *   filesystem's `gcsconfig.credentials` goes to `<dir>/<username>_gcs_credentials.json` (folders:
 *   `<dir>/folders/<name>_gcs_credentials.json`), mode 0600 in a 0700 directory, and the copy in
 *   the database is emptied. With prefer_database_credentials true the secret stays in the
 *   database and no file is written.
 * - load (login, REST API, dumps): an empty secret of a GCS filesystem without automatic
 *   credentials is filled from the file, whatever prefer_database_credentials says (as upstream:
 *   credentials saved before the switch stay readable). A secret in the database wins.
 * - delete: the file is removed. Upstream 2.1.2 leaves it behind, and a later user or folder of
 *   the same name without credentials would silently pick it up.
 *
 * Unlike upstream, the file is written in two steps around the database write (`stage` then
 * `commit` or `discard`): a save the database refuses (a duplicate name, a lost connection)
 * leaves the existing file, and so the existing user's credentials, untouched.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApiFilesystemConfig } from '../api/index.js';
import { SftpgoError } from '../errors/index.js';
import type { ProviderLogger } from './provider.js';
import { isSecretEmpty, isSecretRedacted, VALID_SECRET_STATUSES, type Secret } from './secrets.js';
import { isRecord } from './validation/common.js';

const GCS_PROVIDER = 2;
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/** whose credentials: a user's own filesystem, or a virtual folder's */
export interface CredentialsOwner {
  kind: 'user' | 'folder';
  name: string;
}

export interface CredentialsFilesOptions {
  /** data_provider.credentials_path, absolute (resolved against the config dir) */
  dir: string;
  /** data_provider.prefer_database_credentials */
  preferDatabase: boolean;
  logger?: ProviderLogger | undefined;
}

/** A credentials file written under a temporary name, waiting for the database write. */
export interface StagedCredentials {
  /** moves the file into place */
  commit(): Promise<void>;
  /** removes the temporary file (the database write failed) */
  discard(): Promise<void>;
}

function describe(o: CredentialsOwner): string {
  return `${o.kind} ${JSON.stringify(o.name)}`;
}

/** with skip_natural_keys_validation a name may hold a separator: it must not pick the dir */
function hasFileName(name: string): boolean {
  return name !== '' && !/[/\\\0]/.test(name);
}

function errnoCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/** the gcsconfig whose credentials come from a file: GCS provider, explicit credentials */
function gcsConfigOf(fs: unknown): Record<string, unknown> | undefined {
  if (!isRecord(fs) || fs['provider'] !== GCS_PROVIDER) return undefined;
  const c = fs['gcsconfig'];
  if (!isRecord(c) || c['automatic_credentials'] === 1) return undefined;
  return c;
}

function secretOf(c: Record<string, unknown>): Secret | undefined {
  const s = c['credentials'];
  return isRecord(s) ? (s as Secret) : undefined;
}

/** the Secret JSON of a credentials file, or undefined when it is not one */
function parseSecretFile(text: string): Secret | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(v)) return undefined;
  const s = v as Secret;
  if (s.status === undefined || !VALID_SECRET_STATUSES.includes(s.status)) return undefined;
  if (isSecretRedacted(s) || (s.payload ?? '') === '') return undefined;
  return s;
}

export class CredentialsFiles {
  readonly #dir: string;
  readonly #preferDatabase: boolean;
  readonly #log: ProviderLogger | undefined;

  constructor(o: CredentialsFilesOptions) {
    this.#dir = o.dir;
    this.#preferDatabase = o.preferDatabase;
    this.#log = o.logger;
  }

  /** upstream User/BaseVirtualFolder.GetGCSCredentialsFilePath */
  path(owner: CredentialsOwner): string {
    if (!hasFileName(owner.name)) {
      throw new SftpgoError(
        'INVALID_INPUT',
        `cannot keep the GCS credentials of ${describe(owner)} in a file: the name contains a path separator; set data_provider.prefer_database_credentials to keep them in the data provider`,
      );
    }
    const file = `${owner.name}_gcs_credentials.json`;
    return owner.kind === 'user' ? join(this.#dir, file) : join(this.#dir, 'folders', file);
  }

  /** the file's path; undefined for a name that can have no file */
  #pathIfUsable(owner: CredentialsOwner): string | undefined {
    return hasFileName(owner.name) ? this.path(owner) : undefined;
  }

  /**
   * The secret kept in `owner`'s file; undefined when there is no file. A file that cannot be
   * read or holds no secret is an error with `strict` (dumps: a dump without the secret could
   * not be restored), otherwise it is logged and read as absent (the login then fails on the
   * missing credentials, and a PUT with new credentials repairs it).
   */
  async read(owner: CredentialsOwner, strict: boolean): Promise<Secret | undefined> {
    const p = this.#pathIfUsable(owner);
    if (p === undefined) return undefined;
    let text: string;
    try {
      text = await readFile(p, 'utf8');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return undefined;
      return this.#unusable(owner, strict, 'cannot be read', e);
    }
    const s = parseSecretFile(text);
    return s ?? this.#unusable(owner, strict, 'holds no valid secret');
  }

  #unusable(owner: CredentialsOwner, strict: boolean, what: string, cause?: unknown): undefined {
    const msg = `the GCS credentials file of ${describe(owner)} ${what}`;
    if (strict) throw new SftpgoError('INTERNAL', msg, cause === undefined ? {} : { cause });
    this.#log?.warn({ sender: 'dataprovider', err: cause }, msg);
    return undefined;
  }

  /**
   * Fills the empty credentials of a GCS filesystem (stored, or not yet validated input) from
   * `owner`'s file. Anything else is left alone. Mutates `fs`.
   */
  /** whether fill() has anything to do for `fs`: a GCS filesystem with empty credentials */
  needsFill(fs: unknown): boolean {
    const c = gcsConfigOf(fs);
    return c !== undefined && isSecretEmpty(secretOf(c));
  }

  async fill(fs: unknown, owner: CredentialsOwner, strict = false): Promise<void> {
    const c = gcsConfigOf(fs);
    if (c === undefined || !isSecretEmpty(secretOf(c))) return;
    const s = await this.read(owner, strict);
    if (s !== undefined) c['credentials'] = s;
  }

  /**
   * Save of a validated filesystem whose secrets are already encrypted: in file mode, writes
   * the GCS credentials to a temporary file next to `owner`'s and removes them from `fs` (the
   * database copy is then empty). Returns undefined when nothing is to be written.
   */
  async stage(
    fs: ApiFilesystemConfig | undefined,
    owner: CredentialsOwner,
  ): Promise<StagedCredentials | undefined> {
    if (this.#preferDatabase) return undefined;
    const c = gcsConfigOf(fs);
    const s = c === undefined ? undefined : secretOf(c);
    if (c === undefined || s === undefined || (s.payload ?? '') === '') return undefined;
    const target = this.path(owner);
    const tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await mkdir(join(target, '..'), { recursive: true, mode: DIR_MODE });
      await writeFile(tmp, JSON.stringify(s), { mode: FILE_MODE, flag: 'wx' });
    } catch (e) {
      throw new SftpgoError(
        'INTERNAL',
        `could not save the GCS credentials of ${describe(owner)}`,
        {
          cause: e,
        },
      );
    }
    delete c['credentials'];
    return {
      commit: async () => {
        try {
          await rename(tmp, target);
        } catch (e) {
          await unlink(tmp).catch(() => undefined);
          throw new SftpgoError(
            'INTERNAL',
            `could not save the GCS credentials of ${describe(owner)}`,
            { cause: e },
          );
        }
      },
      // the temporary file only: the save already failed with its own error
      discard: () => unlink(tmp).catch(() => undefined),
    };
  }

  /** removes `owner`'s file (deleted user or folder); no file is fine */
  async remove(owner: CredentialsOwner): Promise<void> {
    const p = this.#pathIfUsable(owner);
    if (p === undefined) return;
    try {
      await unlink(p);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return;
      this.#log?.warn(
        { sender: 'dataprovider', err: e },
        `could not remove the GCS credentials file of ${describe(owner)}`,
      );
    }
  }
}

/**
 * Stages the credentials of every (filesystem, owner) of one save, runs the database `write`,
 * then moves the files into place; when staging or the write fails, no file is changed.
 */
export async function saveWithCredentials<T>(
  files: CredentialsFiles,
  items: readonly { fs: ApiFilesystemConfig | undefined; owner: CredentialsOwner }[],
  write: () => Promise<T>,
): Promise<T> {
  const staged: StagedCredentials[] = [];
  let out: T;
  try {
    for (const it of items) {
      const s = await files.stage(it.fs, it.owner);
      if (s !== undefined) staged.push(s);
    }
    out = await write();
  } catch (e) {
    await Promise.all(staged.map((s) => s.discard()));
    throw e;
  }
  for (const s of staged) await s.commit();
  return out;
}
