/**
 * HTTP basic authentication from an Apache htpasswd file (telemetry.auth_user_file), as
 * upstream common/httpauth.go at v2.1.2: one `user:hash` per line, `#` comments, leading spaces
 * ignored, lines without exactly one `:` skipped, a later line for the same user wins. The file
 * is re-read when its size or modification time changes, so users can be added or removed
 * without a restart; a file that cannot be read then refuses everyone until it can.
 *
 * Hashes: bcrypt (`$2a$`, `$2b$`, `$2y$`: `htpasswd -B`), Apache's MD5 (`$apr1$`: `htpasswd -m`)
 * and md5crypt (`$1$`), as upstream; in addition SHA-crypt (`$5$`, `$6$`, as `mkpasswd` and
 * newer `htpasswd -2/-5` write). Anything else (crypt(3) DES, `{SHA}`, plain text) never matches.
 * Verification is the data provider's, which checks these formats for user passwords too.
 */
import { readFile, stat } from 'node:fs/promises';
import { verifyPassword } from '../dataprovider/index.js';
import { SftpgoError } from '../errors/index.js';

const HASH_PREFIXES = ['$2a$', '$2b$', '$2y$', '$apr1$', '$1$', '$5$', '$6$'];

/** the users of an htpasswd file's text */
export function parseHtpasswd(text: string): Map<string, string> {
  const users = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimStart();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(':');
    if (fields.length !== 2) continue;
    const [user = '', hash = ''] = fields.map((f) => f.trimStart());
    users.set(user, hash);
  }
  return users;
}

interface Loaded {
  users: Map<string, string>;
  size: number;
  mtimeMs: number;
}

export class HtpasswdFile {
  private constructor(
    readonly path: string,
    private loaded: Loaded,
  ) {}

  /** reads the file now: a missing or unreadable file is a start error naming the key */
  static async open(path: string): Promise<HtpasswdFile> {
    try {
      return new HtpasswdFile(path, await HtpasswdFile.read(path));
    } catch (e) {
      throw new SftpgoError(
        'INVALID_INPUT',
        `telemetry.auth_user_file: unable to read ${JSON.stringify(path)}: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }

  private static async read(path: string): Promise<Loaded> {
    const st = await stat(path);
    const users = parseHtpasswd(await readFile(path, 'utf8'));
    return { users, size: st.size, mtimeMs: st.mtimeMs };
  }

  /** the users as of now, re-read when the file changed; throws when it cannot be read */
  private async current(): Promise<Map<string, string>> {
    const st = await stat(this.path);
    if (st.size !== this.loaded.size || st.mtimeMs !== this.loaded.mtimeMs) {
      this.loaded = await HtpasswdFile.read(this.path);
    }
    return this.loaded.users;
  }

  /** true when the file has `username` with a hash `password` matches */
  async verify(username: string, password: string): Promise<boolean> {
    const hash = (await this.current()).get(username);
    if (hash === undefined || !HASH_PREFIXES.some((p) => hash.startsWith(p))) return false;
    return verifyPassword(password, hash);
  }
}
