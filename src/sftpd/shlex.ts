/**
 * POSIX-shell-like word splitting of an exec command line, as github.com/google/shlex
 * (used by sftpd/ssh_cmd.go parseCommandPayload): whitespace separates words, single quotes
 * are literal, double quotes allow backslash escapes of `"`, `\`, `$` and newline, a backslash
 * outside quotes escapes the next character, `#` at the start of a word starts a comment.
 * Throws on an unterminated quote or a trailing escape.
 */
export function shlexSplit(input: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const n = input.length;
  while (i < n) {
    const c = input[i] ?? '';
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) {
        words.push(word);
        word = '';
        inWord = false;
      }
      i++;
      continue;
    }
    if (c === '#' && !inWord) break;
    inWord = true;
    if (c === '\\') {
      if (i + 1 >= n) throw new Error('EOF found after escape character');
      word += input[i + 1];
      i += 2;
      continue;
    }
    if (c === "'") {
      const end = input.indexOf("'", i + 1);
      if (end < 0) throw new Error('EOF found when expecting closing quote');
      word += input.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    if (c === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const d = input[i] ?? '';
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '\\' && i + 1 < n) {
          const e = input[i + 1] ?? '';
          if (e === '"' || e === '\\' || e === '$' || e === '\n') {
            word += e;
            i += 2;
            continue;
          }
        }
        word += d;
        i++;
      }
      if (!closed) throw new Error('EOF found when expecting closing quote');
      continue;
    }
    word += c;
    i++;
  }
  if (inWord) words.push(word);
  return words;
}
