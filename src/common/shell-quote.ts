/**
 * POSIX shell quoting. Everything that reaches a remote shell goes through here: a single-quoted
 * word cannot be interpreted by sh, and an embedded quote is closed, escaped and reopened.
 */
export function shq(word: string): string {
  if (word.includes('\0')) throw new Error('NUL byte cannot be passed to a shell');
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Quotes each word of an argument vector and joins them into one command line. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shq).join(' ');
}
