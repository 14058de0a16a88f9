/**
 * Splits a command line into words the way POSIX sh would for a *simple* command: single
 * quotes, double quotes and backslashes are honoured. Anything that would make sh do more than
 * run one program with literal arguments (pipes, lists, redirections, expansions, globs,
 * comments) makes the line "not simple": the caller then runs it for real in the sandbox instead
 * of recognising it as a hardware command.
 */
export function simpleCommandWords(line: string): string[] | undefined {
  const list = commandList(line);
  if (list?.length === 0) return [];
  if (list?.length !== 1) return undefined;
  const [only] = list as [ListedCommand];
  return only.stdoutTo === undefined ? only.words : undefined;
}

/** One command of an `&&` list: its literal words, and the file its stdout goes to (`> FILE`). */
export interface ListedCommand {
  words: string[];
  stdoutTo?: string;
}

/**
 * Splits an AND list of simple commands (`a && b && c`), each possibly with one output redirection
 * `> FILE` written as a separate word, the way POSIX sh would. Anything else (other operators,
 * expansions, globs, `2>`, `>>`, an empty command) makes the line "not simple": undefined.
 */
export function commandList(line: string): ListedCommand[] | undefined {
  const list: ListedCommand[] = [];
  let words: string[] = [];
  let stdoutTo: string | undefined;
  let redirect = false; // the next word is the redirection's target
  const endCommand = (): boolean => {
    if (words.length === 0 || redirect) return false;
    list.push(stdoutTo === undefined ? { words } : { words, stdoutTo });
    words = [];
    stdoutTo = undefined;
    return true;
  };
  const pushWord = (w: string) => {
    if (redirect) {
      stdoutTo = w;
      redirect = false;
    } else words.push(w);
  };
  let word = '';
  let inWord = false;
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line[i] as string;
    if (c === ' ' || c === '\t') {
      if (inWord) pushWord(word);
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
    // `&&` between commands, and `>` starting a word (so not `2>`), followed by its target.
    if (c === '&' && line[i + 1] === '&') {
      if (inWord) pushWord(word);
      word = '';
      inWord = false;
      if (!endCommand()) return undefined;
      i += 2;
      continue;
    }
    if (c === '>' && !redirect && stdoutTo === undefined && !'>&|'.includes(line[i + 1] ?? '')) {
      if (inWord && /^\d+$/.test(word)) return undefined; // `2>`: another file descriptor
      if (inWord) pushWord(word);
      word = '';
      inWord = false;
      redirect = true;
      i++;
      continue;
    }
    // Other operators, expansions and globs: not a simple command with literal words.
    if ('|&;<>()$`*?[\n'.includes(c)) return undefined;
    if (!inWord && (c === '#' || c === '~')) return undefined;
    word += c;
    inWord = true;
    i++;
  }
  if (inWord) pushWord(word);
  if (list.length === 0 && words.length === 0 && !redirect && stdoutTo === undefined) return [];
  return endCommand() ? list : undefined;
}
