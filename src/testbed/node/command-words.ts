/**
 * Splits a command line into words the way POSIX sh would for a *simple* command: single
 * quotes, double quotes and backslashes are honoured. Anything that would make sh do more than
 * run one program with literal arguments (pipes, lists, redirections, expansions, globs,
 * comments) makes the line "not simple": the caller then runs it for real in the sandbox instead
 * of recognising it as a hardware command.
 */
export function simpleCommandWords(line: string): string[] | undefined {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line[i] as string;
    if (c === ' ' || c === '\t') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
      continue;
    }
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return undefined; // unterminated quote: sh would fail, let it say so
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
      continue;
    }
    if (c === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const d = line[i] as string;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '$' || d === '`') return undefined; // expansion inside double quotes
        if (d === '\\' && i + 1 < n && '$`"\\\n'.includes(line[i + 1] as string)) {
          if (line[i + 1] !== '\n') word += line[i + 1];
          i += 2;
          continue;
        }
        word += d;
        i++;
      }
      if (!closed) return undefined;
      inWord = true;
      continue;
    }
    if (c === '\\') {
      if (i + 1 >= n) return undefined;
      if (line[i + 1] !== '\n') {
        word += line[i + 1];
        inWord = true;
      }
      i += 2;
      continue;
    }
    // Operators, expansions and globs: not a simple command with literal words.
    if ('|&;<>()$`*?[\n'.includes(c)) return undefined;
    if (!inWord && (c === '#' || c === '~')) return undefined;
    word += c;
    inWord = true;
    i++;
  }
  if (inWord) words.push(word);
  return words;
}
