/**
 * A minimal Calico label-selector evaluator for the calico-node stand-in. Written independently of
 * src/bgp/selector.ts on purpose: the simulator is the oracle the product is tested against, so it must
 * not share the product's bugs.
 *
 * Supported: all(), global(), has(k), !has(k), k == 'v', k != 'v', k in {'a','b'}, k not in {...},
 * &&, ||, !, parentheses; single- or double-quoted strings. As in Calico, `k != 'v'` and
 * `k not in {...}` also match when the label is absent.
 */
export type Labels = Readonly<Record<string, string>>;
export type Matcher = (labels: Labels) => boolean;

type Tok = { t: 'id'; v: string } | { t: 'str'; v: string } | { t: 'op'; v: string };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (['==', '!=', '&&', '||'].includes(two)) {
      out.push({ t: 'op', v: two });
      i += 2;
      continue;
    }
    if ('!(){},'.includes(ch)) {
      out.push({ t: 'op', v: ch });
      i++;
      continue;
    }
    if (ch === "'" || ch === '"') {
      const end = src.indexOf(ch, i + 1);
      if (end < 0) throw new Error(`selector ${JSON.stringify(src)}: unterminated string at ${i}`);
      out.push({ t: 'str', v: src.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    const m = /^[A-Za-z0-9_./-]+/.exec(src.slice(i));
    if (!m) throw new Error(`selector ${JSON.stringify(src)}: unexpected ${JSON.stringify(ch)} at ${i}`);
    out.push({ t: 'id', v: m[0] });
    i += m[0].length;
  }
  return out;
}

/** Parses a selector into a matcher; throws on syntax errors (an empty selector matches nothing). */
export function compileSelector(src: string): Matcher {
  if (src.trim() === '') return () => false;
  const toks = tokenize(src);
  let p = 0;
  const peek = (): Tok | undefined => toks[p];
  const fail = (what: string): never => {
    throw new Error(`selector ${JSON.stringify(src)}: ${what} at token ${p}`);
  };
  const expectOp = (v: string): void => {
    const t = toks[p];
    if (!t || t.t !== 'op' || t.v !== v) fail(`expected ${v}`);
    p++;
  };
  const isOp = (v: string): boolean => {
    const t = peek();
    return t !== undefined && t.t === 'op' && t.v === v;
  };
  const str = (): string => {
    const t = toks[p];
    if (!t || t.t !== 'str') return fail('expected a quoted string');
    p++;
    return t.v;
  };
  const set = (): Set<string> => {
    expectOp('{');
    const vals = new Set<string>();
    if (!isOp('}')) {
      vals.add(str());
      while (isOp(',')) {
        p++;
        vals.add(str());
      }
    }
    expectOp('}');
    return vals;
  };

  const orExpr = (): Matcher => {
    const parts = [andExpr()];
    while (isOp('||')) {
      p++;
      parts.push(andExpr());
    }
    return parts.length === 1 ? parts[0]! : (l) => parts.some((m) => m(l));
  };
  const andExpr = (): Matcher => {
    const parts = [unary()];
    while (isOp('&&')) {
      p++;
      parts.push(unary());
    }
    return parts.length === 1 ? parts[0]! : (l) => parts.every((m) => m(l));
  };
  const unary = (): Matcher => {
    if (isOp('!')) {
      p++;
      const inner = unary();
      return (l) => !inner(l);
    }
    return primary();
  };
  const primary = (): Matcher => {
    if (isOp('(')) {
      p++;
      const inner = orExpr();
      expectOp(')');
      return inner;
    }
    const t = toks[p];
    if (!t || t.t !== 'id') return fail('expected a label or function');
    p++;
    if ((t.v === 'all' || t.v === 'global') && isOp('(')) {
      expectOp('(');
      expectOp(')');
      return () => true;
    }
    if (t.v === 'has' && isOp('(')) {
      expectOp('(');
      const k = toks[p];
      if (!k || k.t !== 'id') return fail('expected a label in has()');
      p++;
      expectOp(')');
      return (l) => Object.prototype.hasOwnProperty.call(l, k.v);
    }
    const key = t.v;
    if (isOp('==')) {
      p++;
      const v = str();
      return (l) => l[key] === v;
    }
    if (isOp('!=')) {
      p++;
      const v = str();
      return (l) => l[key] !== v; // absent also matches, as in Calico
    }
    const next = peek();
    if (next?.t === 'id' && next.v === 'in') {
      p++;
      const vals = set();
      return (l) => l[key] !== undefined && vals.has(l[key]!);
    }
    if (next?.t === 'id' && next.v === 'not' && toks[p + 1]?.t === 'id' && toks[p + 1]!.v === 'in') {
      p += 2;
      const vals = set();
      return (l) => l[key] === undefined || !vals.has(l[key]!);
    }
    return fail(`expected ==, !=, in or not in after ${key}`);
  };

  const m = orExpr();
  if (p !== toks.length) fail('unexpected trailing input');
  return m;
}
