/**
 * Calico's label selector language (BGPPeer `nodeSelector` / `peerSelector`, IPPool `nodeSelector`), as
 * pure code: a tokenizer and recursive-descent parser that accept exactly what Calico accepts, and a
 * compiler to closures for fast evaluation against node labels.
 *
 * Behaviour follows upstream projectcalico/calico `libcalico-go/lib/selector/` (`tokenizer/tokenizer.go`,
 * `parser/parser.go`, `parser/ast.go`); no code was copied. The points that matter:
 *
 * - Grammar, lowest precedence first:
 *     selector  := <only spaces/tabs>  (=> all())  |  or EOF
 *     or        := and ( "||" and )*
 *     and       := operation ( "&&" operation )*
 *     operation := "!"* ( has(k) | all() | global() | "(" or ")" | k OP "str" | k (in|not in) "{" set "}" )
 *     set       := ( "str" ( "," "str" )* ","? )?        -- `{}` and a trailing comma are accepted
 *   `!` binds tighter than `&&`, and `&&` tighter than `||`. `!` applies to a whole operation, so
 *   `!a == 'x'` means `!(a == 'x')`. Any number of leading `!` collapse (`!!has(a)` is `has(a)`).
 * - Whitespace is only space and tab. A newline anywhere (e.g. from a YAML `|` or `>` block scalar,
 *   which keeps the final newline) makes the selector invalid.
 * - Label keys are runs of `[A-Za-z0-9_./-]` (so `projectcalico.org/RouteReflectorClusterID` and
 *   `topology.kubernetes.io/zone` are plain keys). Values are quoted with `'` or `"`; there are no escapes,
 *   a string ends at the next matching quote, so `"it's"` and `'say "hi"'` work.
 * - `has(`, `all(` and `global(` must have no space before `(` (`has (a)` is an error); spaces inside the
 *   parentheses are fine. Word operators after a label are matched by prefix: `startswith`, `endswith`
 *   and `notin` (no space) are accepted too.
 * - Absent keys: `==`, `in`, `contains`, `starts with`, `ends with` and `has` are false; `!=` and
 *   `not in` are TRUE when the key is absent (`a != 'x'` matches a node without label `a`).
 * - `global()` evaluates to true for every label set, exactly like `all()`. Its "only non-namespaced
 *   resources" meaning exists only in policy `namespaceSelector`s, where Calico rewrites the text to
 *   `!has(projectcalico.org/namespace)` before evaluation. confd evaluates BGPPeer selectors directly
 *   against node labels, so `nodeSelector: global()` selects every node.
 * - The parser turns "" (or only spaces/tabs) into `all()`. For a BGPPeer, however, confd checks the raw
 *   field: `nodeSelector: ""` with no `node` makes a *global* peer (every node), and `peerSelector: ""`
 *   means "use peerIP". `isEmpty` lets callers tell the two apart.
 */

/** A node's labels (for Calico: Kubernetes labels merged over `projectcalico.org/labels`). */
export type Labels = Readonly<Record<string, string>>;

/** The parsed form of a selector. Sets are sorted (by code point, like Go) and de-duplicated. */
export type SelectorAst =
  | { readonly kind: 'all' }
  | { readonly kind: 'global' }
  | { readonly kind: 'has'; readonly key: string }
  | {
      readonly kind: 'eq' | 'ne' | 'contains' | 'startsWith' | 'endsWith';
      readonly key: string;
      readonly value: string;
    }
  | { readonly kind: 'in' | 'notIn'; readonly key: string; readonly values: readonly string[] }
  | { readonly kind: 'not'; readonly operand: SelectorAst }
  | { readonly kind: 'and' | 'or'; readonly operands: readonly SelectorAst[] };

export interface Selector {
  /** The original text. */
  readonly source: string;
  matches(labels: Labels): boolean;
  /**
   * Calico's canonical rendering, as Go's `Selector.String()`: `&&`/`||` groups always parenthesised,
   * `"` quotes unless the value contains one, sets sorted and de-duplicated, e.g. `(a == "x" && has(b))`.
   * One deliberate difference: `!(!x)` renders as `x` (Go gives `!!x`), so toString() is a fixed point.
   */
  toString(): string;
  /** Label keys the selector mentions, in order of first appearance (for explanations). */
  readonly keys: readonly string[];
  /** True when the selector is `all()`: written so, parenthesised, or empty / only whitespace. */
  readonly isAll: boolean;
  /** True when the text has no tokens at all ("" or only spaces/tabs); such a selector is `all()`. */
  readonly isEmpty: boolean;
  /** True when `global()` appears anywhere (it matches every node; usually a mistake in BGP objects). */
  readonly mentionsGlobal: boolean;
  readonly ast: SelectorAst;
}

/**
 * A selector Calico would reject. `position` is a 0-based index into `selector`. The message is
 * `invalid selector "<selector as a JSON string>" at position <n>: expected <expected>, found <found>`,
 * then the selector and a caret under the position (newlines shown as ↵, tabs kept, so the caret lines up).
 */
export class SelectorParseError extends Error {
  readonly selector: string;
  readonly position: number;
  readonly expected: string;
  readonly found: string;
  constructor(selector: string, position: number, expected: string, found: string) {
    super(formatParseError(selector, position, expected, found));
    this.name = 'SelectorParseError';
    this.selector = selector;
    this.position = position;
    this.expected = expected;
    this.found = found;
  }
}

function formatParseError(selector: string, position: number, expected: string, found: string): string {
  const shown = Array.from(selector, visibleChar).join('');
  const pad = Array.from(selector.slice(0, position), (c) => (c === '\t' ? '\t' : ' ')).join('');
  return (
    `invalid selector ${JSON.stringify(selector)} at position ${position}: expected ${expected}, found ${found}\n` +
    `  ${shown}\n` +
    `  ${pad}^`
  );
}

/** Keeps the caret line aligned: every character stays one column wide. */
function visibleChar(c: string): string {
  if (c === '\t') return c;
  if (c === '\n') return '\u21b5';
  const code = c.codePointAt(0) ?? 0;
  return code < 0x20 || code === 0x7f ? '\u00b7' : c;
}

// ---------------------------------------------------------------------------------------------------
// Tokenizer (on demand, so errors come out in left-to-right order; accepts exactly Calico's token set).

type TokKind =
  | 'label'
  | 'string'
  | 'lbrace'
  | 'rbrace'
  | 'comma'
  | 'eq'
  | 'ne'
  | 'in'
  | 'notIn'
  | 'not'
  | 'contains'
  | 'startsWith'
  | 'endsWith'
  | 'all'
  | 'global'
  | 'has'
  | 'lparen'
  | 'rparen'
  | 'and'
  | 'or'
  | 'eof'
  /** A character no token starts with (including a lone `=`, `&` or `|`); the parser reports it. */
  | 'bad';

interface Token {
  readonly kind: TokKind;
  /** Label key, string contents, has() key, or the offending text of a bad token. */
  readonly value: string;
  readonly pos: number;
  /** Quote character of a string literal. */
  readonly quote?: string;
}

const OPERATORS = '==, !=, in, not in, contains, starts with, ends with';
const OPERAND = 'an expression (a label comparison, has(), all(), global(), "!" or "(")';

function isIdentChar(code: number): boolean {
  return (
    (code >= 97 && code <= 122) || // a-z
    (code >= 65 && code <= 90) || // A-Z
    (code >= 48 && code <= 57) || // 0-9
    code === 95 || // _
    code === 46 || // .
    code === 47 || // /
    code === 45 // -
  );
}

function identEnd(s: string, i: number): number {
  while (i < s.length && isIdentChar(s.charCodeAt(i))) i++;
  return i;
}

/** Only space and tab are whitespace in Calico selectors. */
function skipWs(s: string, i: number): number {
  while (i < s.length && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++;
  return i;
}

function codePointAt(s: string, i: number): string {
  return String.fromCodePoint(s.codePointAt(i) ?? 0);
}

/** What sits at `i`, for "found ..." in messages. */
function describeAt(s: string, i: number): string {
  if (i >= s.length) return 'end of selector';
  const end = identEnd(s, i);
  return JSON.stringify(end > i ? s.slice(i, end) : codePointAt(s, i));
}

function describeToken(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of selector';
    case 'label':
      return `label "${t.value}"`;
    case 'string':
      return `string ${t.quote}${t.value}${t.quote}`;
    case 'has':
      return `has(${t.value})`;
    case 'all':
      return 'all()';
    case 'global':
      return 'global()';
    case 'bad':
      return JSON.stringify(t.value);
    default:
      return `"${TOKEN_TEXT[t.kind]}"`;
  }
}

const TOKEN_TEXT: Readonly<Record<TokKind, string>> = {
  label: '',
  string: '',
  lbrace: '{',
  rbrace: '}',
  comma: ',',
  eq: '==',
  ne: '!=',
  in: 'in',
  notIn: 'not in',
  not: '!',
  contains: 'contains',
  startsWith: 'starts with',
  endsWith: 'ends with',
  all: 'all()',
  global: 'global()',
  has: 'has()',
  lparen: '(',
  rparen: ')',
  and: '&&',
  or: '||',
  eof: '',
  bad: '',
};

class Lexer {
  private pos = 0;
  private last: TokKind | undefined;
  constructor(private readonly src: string) {}

  private fail(pos: number, expected: string, found: string): never {
    throw new SelectorParseError(this.src, pos, expected, found);
  }

  private emit(kind: TokKind, value: string, pos: number, end: number, quote?: string): Token {
    this.pos = end;
    this.last = kind;
    return quote === undefined ? { kind, value, pos } : { kind, value, pos, quote };
  }

  next(): Token {
    const s = this.src;
    const i = skipWs(s, this.pos);
    if (i >= s.length) return this.emit('eof', '', s.length, s.length);
    const c = s[i];
    switch (c) {
      case '(':
        return this.emit('lparen', c, i, i + 1);
      case ')':
        return this.emit('rparen', c, i, i + 1);
      case '{':
        return this.emit('lbrace', c, i, i + 1);
      case '}':
        return this.emit('rbrace', c, i, i + 1);
      case ',':
        return this.emit('comma', c, i, i + 1);
      case '"':
      case "'": {
        const close = s.indexOf(c, i + 1);
        if (close < 0) this.fail(i, `a closing ${c} for the string that starts here`, 'end of selector');
        return this.emit('string', s.slice(i + 1, close), i, close + 1, c);
      }
      case '=':
        return s[i + 1] === '=' ? this.emit('eq', '==', i, i + 2) : this.emit('bad', '=', i, i + 1);
      case '!':
        return s[i + 1] === '=' ? this.emit('ne', '!=', i, i + 2) : this.emit('not', '!', i, i + 1);
      case '&':
        return s[i + 1] === '&' ? this.emit('and', '&&', i, i + 2) : this.emit('bad', '&', i, i + 1);
      case '|':
        return s[i + 1] === '|' ? this.emit('or', '||', i, i + 2) : this.emit('bad', '|', i, i + 1);
    }
    if (this.last === 'label') return this.wordOperator(i);
    if (s.startsWith('has(', i)) {
      const k = skipWs(s, i + 4);
      const kEnd = identEnd(s, k);
      if (kEnd === k) this.fail(k, 'a label key inside has()', describeAt(s, k));
      const close = skipWs(s, kEnd);
      if (s[close] !== ')') this.fail(close, '")" to close has(', describeAt(s, close));
      return this.emit('has', s.slice(k, kEnd), i, close + 1);
    }
    for (const fn of ['all', 'global'] as const) {
      if (s.startsWith(`${fn}(`, i)) {
        const close = skipWs(s, i + fn.length + 1);
        if (s[close] !== ')') this.fail(close, `")" (${fn}() takes no arguments)`, describeAt(s, close));
        return this.emit(fn, '', i, close + 1);
      }
    }
    const end = identEnd(s, i);
    if (end > i) return this.emit('label', s.slice(i, end), i, end);
    const bad = codePointAt(s, i);
    return this.emit('bad', bad, i, i + bad.length);
  }

  /** After a label, Calico looks for a word operator by prefix (so `notin`, `startswith` also work). */
  private wordOperator(i: number): Token {
    const s = this.src;
    if (s.startsWith('contains', i)) return this.emit('contains', '', i, i + 8);
    for (const [word, kind] of [
      ['starts', 'startsWith'],
      ['ends', 'endsWith'],
    ] as const) {
      if (s.startsWith(word, i)) {
        const w = skipWs(s, i + word.length);
        if (!s.startsWith('with', w)) this.fail(w, `"with" after "${word}"`, describeAt(s, w));
        return this.emit(kind, '', i, w + 4);
      }
    }
    if (s.startsWith('not', i)) {
      const w = skipWs(s, i + 3);
      if (!s.startsWith('in', w)) this.fail(w, '"in" after "not"', describeAt(s, w));
      return this.emit('notIn', '', i, w + 2);
    }
    if (s.startsWith('in', i)) return this.emit('in', '', i, i + 2);
    return this.fail(i, `an operator (${OPERATORS})`, describeAt(s, i));
  }
}

// ---------------------------------------------------------------------------------------------------
// Parser

class Parser {
  private readonly lexer: Lexer;
  private tok: Token;
  constructor(private readonly src: string) {
    this.lexer = new Lexer(src);
    this.tok = this.lexer.next();
  }

  private advance(): void {
    this.tok = this.lexer.next();
  }

  /** A method rather than a field read, so TypeScript does not keep narrowing across advance(). */
  private peek(): Token {
    return this.tok;
  }

  private fail(t: Token, expected: string): never {
    throw new SelectorParseError(this.src, t.pos, expected, describeToken(t));
  }

  /** Returns undefined for an empty selector. */
  parseRoot(): SelectorAst | undefined {
    if (this.peek().kind === 'eof') return undefined;
    const node = this.parseOr();
    if (this.peek().kind !== 'eof') this.fail(this.peek(), '"&&", "||" or end of selector');
    return node;
  }

  private parseOr(): SelectorAst {
    const first = this.parseAnd();
    if (this.peek().kind !== 'or') return first;
    const operands = [first];
    while (this.peek().kind === 'or') {
      this.advance();
      operands.push(this.parseAnd());
    }
    return { kind: 'or', operands };
  }

  private parseAnd(): SelectorAst {
    const first = this.parseOperation();
    if (this.peek().kind !== 'and') return first;
    const operands = [first];
    while (this.peek().kind === 'and') {
      this.advance();
      operands.push(this.parseOperation());
    }
    return { kind: 'and', operands };
  }

  private parseOperation(): SelectorAst {
    let negated = false;
    while (this.peek().kind === 'not') {
      negated = !negated;
      this.advance();
    }
    let node: SelectorAst;
    const t = this.peek();
    switch (t.kind) {
      case 'has':
        node = { kind: 'has', key: t.value };
        this.advance();
        break;
      case 'all':
      case 'global':
        node = { kind: t.kind };
        this.advance();
        break;
      case 'lparen':
        this.advance();
        node = this.parseOr();
        if (this.peek().kind !== 'rparen') this.fail(this.peek(), '"&&", "||" or ")"');
        this.advance();
        break;
      case 'label':
        this.advance();
        node = this.parseComparison(t.value);
        break;
      default:
        return this.fail(t, OPERAND);
    }
    return negated ? negate(node) : node;
  }

  private parseComparison(key: string): SelectorAst {
    const op = this.peek();
    switch (op.kind) {
      case 'eq':
      case 'ne':
      case 'contains':
      case 'startsWith':
      case 'endsWith': {
        this.advance();
        const v = this.peek();
        if (v.kind !== 'string') this.fail(v, 'a quoted string');
        this.advance();
        return { kind: op.kind, key, value: v.value };
      }
      case 'in':
      case 'notIn': {
        this.advance();
        if (this.peek().kind !== 'lbrace')
          this.fail(this.peek(), `"{" (a set such as {'a', 'b'}) after "${TOKEN_TEXT[op.kind]}"`);
        this.advance();
        const values: string[] = [];
        let wantValue = true;
        while (this.peek().kind === 'string') {
          values.push(this.peek().value);
          this.advance();
          wantValue = this.peek().kind === 'comma';
          if (!wantValue) break;
          this.advance();
        }
        if (this.peek().kind !== 'rbrace')
          this.fail(this.peek(), wantValue ? 'a quoted string or "}"' : '"," or "}"');
        this.advance();
        return { kind: op.kind, key, values: sortedSet(values) };
      }
      case 'lparen':
        if (key === 'has' || key === 'all' || key === 'global') {
          return this.fail(op, `"${key}(" with no space before "("`);
        }
        return this.fail(
          op,
          `an operator after label "${key}" (there is no function ${key}(); the functions are has(), all() and global())`,
        );
      default:
        return this.fail(op, `an operator after label "${key}" (${OPERATORS})`);
    }
  }
}

/** `!!x` is `x`: keeps toString() idempotent (Calico renders `!(!has(a))` as `!!has(a)`). */
function negate(node: SelectorAst): SelectorAst {
  return node.kind === 'not' ? node.operand : { kind: 'not', operand: node };
}

/** Go's sort.Strings order (UTF-8 bytes, i.e. code points), de-duplicated. */
function sortedSet(values: string[]): string[] {
  const out = [...new Set(values)].sort(compareCodePoints);
  return out;
}

function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // A surrogate encodes a code point above U+FFFF, so it sorts after every other code unit.
      const xs = x >= 0xd800 && x <= 0xdfff;
      const ys = y >= 0xd800 && y <= 0xdfff;
      if (xs !== ys) return xs ? 1 : -1;
      return x - y;
    }
  }
  return a.length - b.length;
}

// ---------------------------------------------------------------------------------------------------
// Canonical rendering (Calico's String())

function quote(v: string): string {
  return v.includes('"') ? `'${v}'` : `"${v}"`;
}

function render(n: SelectorAst): string {
  switch (n.kind) {
    case 'all':
      return 'all()';
    case 'global':
      return 'global()';
    case 'has':
      return `has(${n.key})`;
    case 'eq':
    case 'ne':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      return `${n.key} ${TOKEN_TEXT[n.kind]} ${quote(n.value)}`;
    case 'in':
    case 'notIn':
      return `${n.key} ${TOKEN_TEXT[n.kind]} {${n.values.map(quote).join(', ')}}`;
    case 'not':
      return `!${render(n.operand)}`;
    case 'and':
    case 'or':
      return `(${n.operands.map(render).join(n.kind === 'and' ? ' && ' : ' || ')})`;
  }
}

// ---------------------------------------------------------------------------------------------------
// Compilation to closures. Label lookups use `typeof` / `===` so keys such as `constructor` or
// `toString` do not see Object.prototype; non-string values count as absent.

type Pred = (labels: Labels) => boolean;

const TRUE: Pred = () => true;
const FALSE: Pred = () => false;

function compile(n: SelectorAst): Pred {
  switch (n.kind) {
    case 'all':
    case 'global':
      return TRUE;
    case 'has': {
      const k = n.key;
      return (l) => typeof l[k] === 'string';
    }
    case 'eq': {
      const { key: k, value: v } = n;
      return (l) => l[k] === v;
    }
    case 'ne': {
      const { key: k, value: v } = n;
      return (l) => l[k] !== v;
    }
    case 'contains': {
      const { key: k, value: v } = n;
      return (l) => {
        const x = l[k];
        return typeof x === 'string' && x.includes(v);
      };
    }
    case 'startsWith': {
      const { key: k, value: v } = n;
      return (l) => {
        const x = l[k];
        return typeof x === 'string' && x.startsWith(v);
      };
    }
    case 'endsWith': {
      const { key: k, value: v } = n;
      return (l) => {
        const x = l[k];
        return typeof x === 'string' && x.endsWith(v);
      };
    }
    case 'in':
    case 'notIn': {
      const positive = compileIn(n.key, n.values);
      if (n.kind === 'in') return positive;
      return (l) => !positive(l);
    }
    case 'not': {
      if (n.operand.kind === 'has') {
        const k = n.operand.key;
        return (l) => typeof l[k] !== 'string';
      }
      const p = compile(n.operand);
      return (l) => !p(l);
    }
    case 'and':
    case 'or':
      return n.kind === 'and' ? compileAnd(n.operands.map(compile)) : compileOr(n.operands.map(compile));
  }
}

function compileIn(k: string, values: readonly string[]): Pred {
  switch (values.length) {
    case 0:
      return FALSE;
    case 1: {
      const a = values[0];
      return (l) => l[k] === a;
    }
    case 2: {
      const [a, b] = values;
      return (l) => {
        const x = l[k];
        return x === a || x === b;
      };
    }
    default: {
      const set = new Set(values);
      return (l) => set.has(l[k]);
    }
  }
}

function compileAnd(ps: Pred[]): Pred {
  if (ps.length === 2) {
    const [a, b] = ps;
    return (l) => a(l) && b(l);
  }
  if (ps.length === 3) {
    const [a, b, c] = ps;
    return (l) => a(l) && b(l) && c(l);
  }
  return (l) => {
    for (let i = 0; i < ps.length; i++) if (!ps[i](l)) return false;
    return true;
  };
}

function compileOr(ps: Pred[]): Pred {
  if (ps.length === 2) {
    const [a, b] = ps;
    return (l) => a(l) || b(l);
  }
  if (ps.length === 3) {
    const [a, b, c] = ps;
    return (l) => a(l) || b(l) || c(l);
  }
  return (l) => {
    for (let i = 0; i < ps.length; i++) if (ps[i](l)) return true;
    return false;
  };
}

// ---------------------------------------------------------------------------------------------------
// Public API

function deepFreeze(n: SelectorAst): SelectorAst {
  if (n.kind === 'not') deepFreeze(n.operand);
  else if (n.kind === 'and' || n.kind === 'or') {
    n.operands.forEach(deepFreeze);
    Object.freeze(n.operands);
  } else if (n.kind === 'in' || n.kind === 'notIn') Object.freeze(n.values);
  return Object.freeze(n);
}

function collect(n: SelectorAst, keys: Set<string>, flags: { global: boolean }): void {
  switch (n.kind) {
    case 'all':
      return;
    case 'global':
      flags.global = true;
      return;
    case 'not':
      return collect(n.operand, keys, flags);
    case 'and':
    case 'or':
      for (const o of n.operands) collect(o, keys, flags);
      return;
    default:
      keys.add(n.key);
  }
}

const ALL_AST: SelectorAst = Object.freeze({ kind: 'all' });

class CompiledSelector implements Selector {
  readonly source: string;
  readonly ast: SelectorAst;
  readonly keys: readonly string[];
  readonly isAll: boolean;
  readonly isEmpty: boolean;
  readonly mentionsGlobal: boolean;
  /** An own property (not a prototype method), so `const { matches } = sel` works too. */
  readonly matches: (labels: Labels) => boolean;
  private readonly canonical: string;

  constructor(source: string, ast: SelectorAst | undefined) {
    this.source = source;
    this.isEmpty = ast === undefined;
    this.ast = ast === undefined ? ALL_AST : deepFreeze(ast);
    const keys = new Set<string>();
    const flags = { global: false };
    collect(this.ast, keys, flags);
    this.keys = Object.freeze([...keys]);
    this.mentionsGlobal = flags.global;
    this.isAll = this.ast.kind === 'all';
    this.canonical = render(this.ast);
    this.matches = compile(this.ast);
  }

  toString(): string {
    return this.canonical;
  }
}

/** Parses (and compiles) a selector; throws SelectorParseError for anything Calico would reject. */
export function parseSelector(text: string): Selector {
  return new CompiledSelector(text, new Parser(text).parseRoot());
}

/** Like parseSelector, but returns the error instead of throwing. Uses the cache. */
export function trySelector(text: string): Selector | SelectorParseError {
  const cached = cache.get(text);
  if (cached !== undefined) return cached;
  let result: Selector | SelectorParseError;
  try {
    result = parseSelector(text);
  } catch (e) {
    if (!(e instanceof SelectorParseError)) throw e;
    result = e;
  }
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(text, result);
  return result;
}

const CACHE_LIMIT = 10_000;
const cache = new Map<string, Selector | SelectorParseError>();

/**
 * parseSelector with a cache keyed by the exact text (selectors are immutable, so sharing is safe).
 * Errors are cached too and rethrown. The cache is cleared wholesale if it reaches 10,000 entries.
 */
export function parseSelectorCached(text: string): Selector {
  const result = trySelector(text);
  if (result instanceof SelectorParseError) throw result;
  return result;
}

/** For tests and long-running processes. */
export function clearSelectorCache(): void {
  cache.clear();
}

// ---------------------------------------------------------------------------------------------------
// The YAML `!` trap

const SELECTOR_LINE = /^(\s*)(?:-\s+)*(["']?)([A-Za-z0-9_.-]*selector)\2\s*:[ \t]+(!.*?)\s*$/i;
/** `key: |` / `- key: >-` / `key: |2 # comment`: group 1 is the key's column. */
const BLOCK_SCALAR = /^(\s*(?:-\s+)*)[^\s#][^#]*?:[ \t]+[|>][0-9+-]*[ \t]*(?:#.*)?$/;

/**
 * Finds selectors written unquoted with a leading `!` in raw YAML, e.g. `nodeSelector: !has(route-reflector)`.
 * In YAML, `!has(route-reflector)` is a *tag*, not text:
 * - Go (sigs.k8s.io/yaml, go.yaml.in/yaml v2 and v3 — what kubectl and calicoctl use) silently decodes
 *   `nodeSelector: !has(route-reflector)` as `nodeSelector: ""`. For a BGPPeer without `node`, an empty
 *   nodeSelector makes a global peer: every node, route reflectors included, gets the peering.
 * - With more after the tag (`!has(a) && b == 'x'`, `!has(a) || ...`) Go fails with cryptic errors such as
 *   "did not find expected alphabetic or numeric character" (`&&` reads as an anchor).
 * - js-yaml throws "unknown tag !<!has(route-reflector)>".
 * Looks at block-style `key: value` lines (also `- key: value` and quoted keys) whose key ends in
 * "selector" (any case). Skips comments and block-scalar contents (`key: |` ... is safe), and explicit
 * `!!str value` tags whose value does not itself start with `!`. Flow mappings (`{a: b}`) are not checked.
 * Returns 1-based line numbers and the offending line, trimmed.
 */
export function unquotedBangSelectors(yamlText: string): { line: number; text: string }[] {
  const found: { line: number; text: string }[] = [];
  const lines = yamlText.split(/\r\n|\r|\n/);
  let blockIndent = -1; // indentation of the key that opened a block scalar, or -1
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const indent = line.length - line.trimStart().length;
    if (blockIndent >= 0) {
      if (line.trim() === '' || indent > blockIndent) continue;
      blockIndent = -1;
    }
    const trimmed = line.trim();
    if (trimmed.startsWith('#')) continue;
    const block = BLOCK_SCALAR.exec(line);
    if (block !== null) {
      // Content lines are indented deeper than the key (for "- key: |", the key after the dash).
      blockIndent = block[1].length;
      continue;
    }
    const m = SELECTOR_LINE.exec(line);
    if (m === null) continue;
    const value = m[4];
    if (/^!!str[ \t]+[^!\s]/.test(value)) continue;
    found.push({ line: i + 1, text: trimmed });
  }
  return found;
}
