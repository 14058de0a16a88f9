import { KaployError } from '../../common/errors.js';

/**
 * Timeout expressions of n (the node count), in seconds, as Kadeploy's configuration and
 * --reboot-classical-timeout accept them (`200+150*log(n)`). Kadeploy evaluates them with Ruby's
 * eval; here a small recursive-descent parser accepts only numbers, n, + - * / ^, parentheses and
 * a fixed set of functions, so a configuration value can never run code.
 */
export interface TimeoutExpr {
  readonly source: string;
  /** Seconds for n nodes; throws KAPLOY_OPTION when the value is not a finite number >= 0. */
  evaluate(n: number): number;
}

type Node =
  | { t: 'num'; v: number }
  | { t: 'n' }
  | { t: 'neg'; a: Node }
  | { t: 'bin'; op: '+' | '-' | '*' | '/' | '^'; a: Node; b: Node }
  | { t: 'call'; fn: string; args: Node[] };

// log is natural, as Ruby's Math.log.
const FUNCTIONS: Readonly<Record<string, { arity: [number, number]; f: (...a: number[]) => number }>> = {
  log: { arity: [1, 1], f: Math.log },
  log2: { arity: [1, 1], f: Math.log2 },
  log10: { arity: [1, 1], f: Math.log10 },
  sqrt: { arity: [1, 1], f: Math.sqrt },
  ceil: { arity: [1, 1], f: Math.ceil },
  floor: { arity: [1, 1], f: Math.floor },
  min: { arity: [1, Number.POSITIVE_INFINITY], f: Math.min },
  max: { arity: [1, Number.POSITIVE_INFINITY], f: Math.max },
};

interface Token {
  kind: 'num' | 'id' | 'op' | 'end';
  text: string;
  pos: number; // 1-based column, for messages
}

function syntaxError(source: string, pos: number, what: string): KaployError {
  return new KaployError(
    'KAPLOY_OPTION',
    `Invalid timeout expression '${source}': ${what} at position ${pos}`,
    {
      key: source,
    },
  );
}

function tokenize(source: string): Token[] {
  const out: Token[] = [];
  const re = /\s*(?:(\d+(?:\.\d+)?|\.\d+)|([A-Za-z_][A-Za-z0-9_]*)|([-+*/^(),]))/y;
  let i = 0;
  while (i < source.length) {
    if (/^\s*$/.test(source.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(source);
    if (!m) {
      const at = i + (source.slice(i).length - source.slice(i).trimStart().length);
      throw syntaxError(source, at + 1, `unexpected character '${source[at]}'`);
    }
    const text = m[1] ?? m[2] ?? m[3] ?? '';
    const pos = re.lastIndex - text.length + 1;
    // Ruby's `**` is also a power operator; accept it as `^`.
    if (text === '*' && source[re.lastIndex] === '*') {
      out.push({ kind: 'op', text: '^', pos });
      i = re.lastIndex + 1;
      continue;
    }
    out.push({ kind: m[1] ? 'num' : m[2] ? 'id' : 'op', text, pos });
    i = re.lastIndex;
  }
  out.push({ kind: 'end', text: '', pos: source.length + 1 });
  return out;
}

class Parser {
  private i = 0;
  constructor(
    private readonly source: string,
    private readonly toks: Token[],
  ) {}

  private peek(): Token {
    return this.toks[this.i] ?? { kind: 'end', text: '', pos: this.source.length + 1 };
  }
  private next(): Token {
    const t = this.peek();
    this.i++;
    return t;
  }
  private unexpected(t: Token): KaployError {
    return syntaxError(this.source, t.pos, t.kind === 'end' ? 'unexpected end' : `unexpected '${t.text}'`);
  }
  private expect(text: string): void {
    const t = this.next();
    if (t.text !== text || t.kind !== 'op') {
      throw syntaxError(
        this.source,
        t.pos,
        `expected '${text}'${t.kind === 'end' ? '' : ` instead of '${t.text}'`}`,
      );
    }
  }

  parseAll(): Node {
    const e = this.expr();
    const t = this.peek();
    if (t.kind !== 'end') throw this.unexpected(t);
    return e;
  }
  private expr(): Node {
    let a = this.term();
    for (let t = this.peek(); t.kind === 'op' && (t.text === '+' || t.text === '-'); t = this.peek()) {
      this.next();
      a = { t: 'bin', op: t.text, a, b: this.term() };
    }
    return a;
  }
  private term(): Node {
    let a = this.unary();
    for (let t = this.peek(); t.kind === 'op' && (t.text === '*' || t.text === '/'); t = this.peek()) {
      this.next();
      a = { t: 'bin', op: t.text, a, b: this.unary() };
    }
    return a;
  }
  private unary(): Node {
    const t = this.peek();
    if (t.kind === 'op' && (t.text === '-' || t.text === '+')) {
      this.next();
      const a = this.unary();
      return t.text === '-' ? { t: 'neg', a } : a;
    }
    return this.power();
  }
  private power(): Node {
    const a = this.primary();
    const t = this.peek();
    if (t.kind === 'op' && t.text === '^') {
      this.next();
      return { t: 'bin', op: '^', a, b: this.unary() }; // right-associative
    }
    return a;
  }
  private primary(): Node {
    const t = this.next();
    if (t.kind === 'num') return { t: 'num', v: Number(t.text) };
    if (t.kind === 'op' && t.text === '(') {
      const e = this.expr();
      this.expect(')');
      return e;
    }
    if (t.kind === 'id') {
      if (t.text === 'n') return { t: 'n' };
      const fn = FUNCTIONS[t.text];
      if (!fn) {
        throw syntaxError(
          this.source,
          t.pos,
          `unknown name '${t.text}' (allowed: n, ${Object.keys(FUNCTIONS).join(', ')})`,
        );
      }
      this.expect('(');
      const args: Node[] = [this.expr()];
      while (this.peek().kind === 'op' && this.peek().text === ',') {
        this.next();
        args.push(this.expr());
      }
      this.expect(')');
      const [lo, hi] = fn.arity;
      if (args.length < lo || args.length > hi) {
        throw syntaxError(
          this.source,
          t.pos,
          `${t.text} takes ${lo === hi ? lo : `at least ${lo}`} argument(s)`,
        );
      }
      return { t: 'call', fn: t.text, args };
    }
    throw this.unexpected(t);
  }
}

function evalNode(e: Node, n: number): number {
  switch (e.t) {
    case 'num':
      return e.v;
    case 'n':
      return n;
    case 'neg':
      return -evalNode(e.a, n);
    case 'call':
      return FUNCTIONS[e.fn]!.f(...e.args.map((a) => evalNode(a, n)));
    case 'bin': {
      const a = evalNode(e.a, n);
      const b = evalNode(e.b, n);
      if (e.op === '+') return a + b;
      if (e.op === '-') return a - b;
      if (e.op === '*') return a * b;
      if (e.op === '/') return a / b;
      return a ** b;
    }
  }
}

/** Parses once (errors name the expression and the 1-based position), evaluates many times. */
export function parseTimeoutExpr(source: string): TimeoutExpr {
  if (source.trim() === '') throw syntaxError(source, 1, 'empty expression');
  const ast = new Parser(source, tokenize(source)).parseAll();
  return {
    source,
    evaluate(n: number): number {
      const v = evalNode(ast, n);
      if (!Number.isFinite(v) || v < 0) {
        throw new KaployError(
          'KAPLOY_OPTION',
          `Timeout expression '${source}' gives ${v} for n=${n}: a timeout must be a finite number of seconds >= 0`,
          { key: source },
        );
      }
      return v;
    },
  };
}

/** Seconds (not rounded) that `source` gives for n nodes. */
export function evalTimeout(source: string, n: number): number {
  return parseTimeoutExpr(source).evaluate(n);
}

/** Whole milliseconds, rounded up, for a timer: the unit timeouts are stored in. */
export function timeoutMs(source: string, n: number): number {
  return Math.ceil(evalTimeout(source, n) * 1000);
}
