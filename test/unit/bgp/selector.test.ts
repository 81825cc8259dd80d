import assert from 'node:assert/strict';
import fc from 'fast-check';
import yaml from 'js-yaml';
import {
  type Labels,
  type Selector,
  SelectorParseError,
  clearSelectorCache,
  parseSelector,
  parseSelectorCached,
  trySelector,
  unquotedBangSelectors,
} from '../../../src/bgp/selector.js';

function m(sel: string, labels: Labels): boolean {
  return parseSelector(sel).matches(labels);
}

function parseError(sel: string): SelectorParseError {
  const r = trySelector(sel);
  assert.ok(r instanceof SelectorParseError, `expected ${JSON.stringify(sel)} to be rejected`);
  return r;
}

describe('bgp/selector', () => {
  describe('operators', () => {
    it('== matches only an equal, present value', () => {
      assert.equal(m("a == 'b'", { a: 'b' }), true);
      assert.equal(m("a == 'b'", { a: 'b', c: 'd' }), true);
      assert.equal(m("a == 'b'", { a: 'c' }), false);
      assert.equal(m("a == 'b'", {}), false);
      assert.equal(m("a == ''", { a: '' }), true);
      assert.equal(m("a == ''", {}), false);
    });

    it('!= matches when the key is absent (Calico semantics)', () => {
      assert.equal(m("a != 'b'", {}), true);
      assert.equal(m("a != 'b'", { c: 'b' }), true);
      assert.equal(m("a != 'b'", { a: 'c' }), true);
      assert.equal(m("a != 'b'", { a: 'b' }), false);
    });

    it('has() and !has()', () => {
      assert.equal(m('has(a)', { a: '' }), true);
      assert.equal(m('has(a)', { b: 'a' }), false);
      assert.equal(m('!has(a)', { b: 'a' }), true);
      assert.equal(m('!has(a)', { a: 'x' }), false);
      assert.equal(m('has( a )', { a: 'x' }), true);
    });

    it('in / not in (not in matches an absent key; empty sets and trailing commas are accepted)', () => {
      assert.equal(m("a in {'x', 'y'}", { a: 'y' }), true);
      assert.equal(m("a in {'x', 'y'}", { a: 'z' }), false);
      assert.equal(m("a in {'x', 'y'}", {}), false);
      assert.equal(m("a in {'x', 'y', 'z', 'w'}", { a: 'w' }), true);
      assert.equal(m("a in {'x', 'y', 'z', 'w'}", { a: 'v' }), false);
      assert.equal(m("a in {'x'}", { a: 'x' }), true);
      assert.equal(m("a not in {'x', 'y'}", {}), true);
      assert.equal(m("a not in {'x', 'y'}", { a: 'z' }), true);
      assert.equal(m("a not in {'x', 'y'}", { a: 'x' }), false);
      assert.equal(m('a in {}', { a: '' }), false);
      assert.equal(m('a not in {}', { a: '' }), true);
      assert.equal(m("a in {'x',}", { a: 'x' }), true);
      assert.equal(m(`a in {"'", '"', "c"}`, { a: `'` }), true);
      assert.equal(m(`a in {"'", '"', "c"}`, { a: `"` }), true);
      assert.equal(m(`a not in {"'", '"', "c"}`, { a: 'c' }), false);
    });

    it('contains / starts with / ends with are false for an absent key', () => {
      assert.equal(m("a contains 'a'", { a: 'bab' }), true);
      assert.equal(m("a contains 'a'", { a: 'b' }), false);
      assert.equal(m("a contains 'a'", { b: 'aaa' }), false);
      assert.equal(m("a contains ''", { a: '' }), true);
      assert.equal(m("a starts with 'ab'", { a: 'abc' }), true);
      assert.equal(m("a starts with 'ab'", { a: 'cab' }), false);
      assert.equal(m("a starts with 'ab'", {}), false);
      assert.equal(m("a ends with 'ab'", { a: 'cab' }), true);
      assert.equal(m("a ends with 'ab'", { a: 'abc' }), false);
      assert.equal(m("a ends with 'ab'", {}), false);
      assert.equal(m("!a contains 'x'", {}), true);
    });

    it('accepts the no-space and extra-space spellings Calico accepts', () => {
      assert.equal(m("a startswith 'x'", { a: 'xy' }), true);
      assert.equal(m("a endswith 'y'", { a: 'xy' }), true);
      assert.equal(m("a starts  \twith 'x'", { a: 'xy' }), true);
      assert.equal(m("a notin {'x'}", { a: 'y' }), true);
      assert.equal(m(`a notin"x"`.replace('"x"', "{'x'}"), { a: 'x' }), false);
      assert.equal(m(`a contains"x"`, { a: 'axb' }), true);
      assert.equal(m(`a in{'x'}`, { a: 'x' }), true);
      assert.equal(parseSelector("a startswith 'x'").toString(), 'a starts with "x"');
    });

    it('all() and the empty selector match everything', () => {
      for (const s of ['', ' ', '\t', 'all()', ' all() ', '(all())', 'all( )']) {
        const sel = parseSelector(s);
        assert.equal(sel.matches({}), true, s);
        assert.equal(sel.matches({ a: 'b' }), true, s);
        assert.equal(sel.isAll, true, s);
        assert.equal(sel.toString(), 'all()', s);
      }
      assert.equal(parseSelector('').isEmpty, true);
      assert.equal(parseSelector(' \t ').isEmpty, true);
      assert.equal(parseSelector('all()').isEmpty, false);
      assert.equal(m('!all()', {}), false);
      assert.equal(parseSelector('!all()').isAll, false);
      assert.equal(parseSelector('has(a) || all()').isAll, false);
    });

    it('global() evaluates like all() for node labels (confd does not special-case it)', () => {
      const g = parseSelector('global()');
      assert.equal(g.matches({}), true);
      assert.equal(g.matches({ 'kubernetes.io/hostname': 'n1' }), true);
      assert.equal(g.isAll, false);
      assert.equal(g.mentionsGlobal, true);
      assert.equal(g.toString(), 'global()');
      assert.equal(m('!global()', { a: 'b' }), false);
      assert.equal(parseSelector("a == 'b' && !global()").mentionsGlobal, true);
      assert.equal(parseSelector("a == 'b'").mentionsGlobal, false);
    });
  });

  describe('precedence and grouping', () => {
    it('&& binds tighter than ||', () => {
      const s = "a == 'x' || b == 'y' && c == 'z'";
      assert.equal(m(s, { a: 'x' }), true);
      assert.equal(m(s, { b: 'y' }), false);
      assert.equal(m(s, { b: 'y', c: 'z' }), true);
      assert.equal(parseSelector(s).toString(), '(a == "x" || (b == "y" && c == "z"))');
      const t = "a == 'x' && b == 'y' || c == 'z'";
      assert.equal(m(t, { c: 'z' }), true);
      assert.equal(m(t, { a: 'x' }), false);
    });

    it('parentheses override precedence', () => {
      const s = "(a == 'x' || b == 'y') && c == 'z'";
      assert.equal(m(s, { a: 'x' }), false);
      assert.equal(m(s, { a: 'x', c: 'z' }), true);
      assert.equal(m(s, { b: 'y', c: 'z' }), true);
      assert.equal(m('((( has(a) )))', { a: '1' }), true);
    });

    it('! applies to a whole operation, and repeated ! collapse', () => {
      assert.equal(m("!a == 'x'", {}), true);
      assert.equal(m("!a == 'x'", { a: 'x' }), false);
      assert.equal(m("!a == 'a1' && b == 'b1'", { a: 'a1', b: 'b1' }), false);
      assert.equal(m("! a == 'a1' || ! b == 'b1'", { a: 'a1', b: 'b1' }), false);
      assert.equal(m('!!has(b)', { a: 'b' }), false);
      assert.equal(m('!! ! has(a)', { a: 'b' }), false);
      assert.equal(m('! !!has(a)', { b: 'b' }), true);
      assert.equal(m('!(!has(a) || has(b))', { a: 'a' }), true);
      assert.equal(m('!(has(b) || !has(a))', { a: 'a' }), true);
      assert.equal(parseSelector('!!has(a)').toString(), 'has(a)');
      assert.equal(parseSelector('!(!has(a))').toString(), 'has(a)');
    });
  });

  describe('lexical details', () => {
    it('both quote styles; no escapes; the other quote may appear inside', () => {
      assert.equal(m(`a == "b"`, { a: 'b' }), true);
      assert.equal(m(`a == 'b'`, { a: 'b' }), true);
      assert.equal(m(`a == "it's"`, { a: "it's" }), true);
      assert.equal(m(`a == 'say "hi"'`, { a: 'say "hi"' }), true);
      assert.equal(m(`a == 'x y && z'`, { a: 'x y && z' }), true);
    });

    it('keys may contain dots, slashes, dashes, underscores and digits', () => {
      const labels = {
        'projectcalico.org/RouteReflectorClusterID': '244.0.0.1',
        'topology.kubernetes.io/zone': 'us-east-1a',
        'node-role.kubernetes.io/control-plane': '',
        k8s_app: 'x',
        '1-2.3/4': 'y',
      };
      assert.equal(m('has(projectcalico.org/RouteReflectorClusterID)', labels), true);
      assert.equal(m("topology.kubernetes.io/zone in {'us-east-1a', 'us-east-1b'}", labels), true);
      assert.equal(m('!has(node-role.kubernetes.io/control-plane)', labels), false);
      assert.equal(m("k8s_app == 'x' && 1-2.3/4 == 'y'", labels), true);
    });

    it('keywords are ordinary keys where a key is expected', () => {
      assert.equal(m("in == 'x'", { in: 'x' }), true);
      // `not in {'x'}` is the key "not" in the set {'x'}.
      assert.equal(m("not in {'x'}", { not: 'x' }), true);
      assert.equal(m("not in {'x'}", { not: 'y' }), false);
      assert.equal(m("has == 'x' && all == 'y'", { has: 'x', all: 'y' }), true);
      assert.equal(m("contains contains 'contains'", { contains: 'xcontainsx' }), true);
    });

    it('keys never see Object.prototype', () => {
      assert.equal(m('has(constructor)', {}), false);
      assert.equal(m('has(toString)', {}), false);
      assert.equal(m("constructor != 'x'", {}), true);
      assert.equal(m("constructor not in {'x', 'y', 'z'}", {}), true);
      assert.equal(m("__proto__ contains ''", {}), false);
      assert.equal(m('has(constructor)', { constructor: 'v' }), true);
    });

    it('whitespace is spaces and tabs, anywhere between tokens (or none)', () => {
      for (const s of [
        "a=='x'&&b!='y'",
        " a == 'x' && b != 'y' ",
        "\ta\t==\t'x'\t&&\tb\t!=\t'y'\t",
        "(a=='x')&&(b!='y')",
        "  ( a  ==  'x' )  &&  (  b != 'y' )  ",
      ]) {
        assert.equal(m(s, { a: 'x' }), true, s);
        assert.equal(m(s, { a: 'x', b: 'y' }), false, s);
        assert.equal(parseSelector(s).toString(), '(a == "x" && b != "y")', s);
      }
      for (const s of ["a=='x'&&!b=='y'", "(a=='x')&&(!b=='y')", "  ( a  ==  'x' )  &&  !  ( b == 'y' )  "]) {
        assert.equal(parseSelector(s).toString(), '(a == "x" && !b == "y")', s);
      }
    });

    it('newlines are not whitespace (a YAML block scalar keeps one)', () => {
      assert.ok(trySelector('has(a)\n') instanceof SelectorParseError);
      assert.ok(trySelector("a == 'x' &&\nb == 'y'") instanceof SelectorParseError);
      assert.ok(trySelector('\n') instanceof SelectorParseError);
    });
  });

  describe('canonical rendering (matches Calico String())', () => {
    const cases: [string, string][] = [
      ['', 'all()'],
      [' all() ', 'all()'],
      [' (all() )', 'all()'],
      ['! (has( b)||! has(a ))', '!(has(b) || !has(a))'],
      [`! (a == "b"&&! c != "d")`, `!(a == "b" && !c != "d")`],
      [`a == "'"`, `a == "'"`],
      [`a == '"'`, `a == '"'`],
      [`a contains '"'`, `a contains '"'`],
      [`a contains "'"`, `a contains "'"`],
      [`a startswith '"'`, `a starts with '"'`],
      [`a endswith "'"`, `a ends with "'"`],
      [`a!='"'`, `a != '"'`],
      [`a in {"d", "a", "b"}`, `a in {"a", "b", "d"}`],
      [`a in {"z", "z", "x", "y", "x", "a"}`, `a in {"a", "x", "y", "z"}`],
      [`a not in {'x'}`, `a not in {"x"}`],
      ['a in {}', 'a in {}'],
      [`k == 'v' && x == 'y'`, `(k == "v" && x == "y")`],
      [`k == 'v' || has(x)`, `(k == "v" || has(x))`],
      [`!(k == 'v')`, `!k == "v"`],
      [
        "!(!(k == 'v' && has(t) || all()) && (a in {'b', 'c'}))",
        '!(!((k == "v" && has(t)) || all()) && a in {"b", "c"})',
      ],
      ['a == "x" && (b == "y" && c == "z")', '(a == "x" && (b == "y" && c == "z"))'],
    ];
    for (const [input, expected] of cases) {
      it(`${JSON.stringify(input)} -> ${expected}`, () => {
        const s = parseSelector(input);
        assert.equal(s.toString(), expected);
        assert.equal(String(s), expected);
        assert.equal(parseSelector(expected).toString(), expected);
        assert.equal(s.source, input);
      });
    }
  });

  describe('keys and ast', () => {
    it('lists mentioned keys once, in order', () => {
      const s = parseSelector(
        "route-reflector == 'true' && !has(node-role.kubernetes.io/control-plane) || route-reflector != 'x' && zone in {'a'}",
      );
      assert.deepEqual(s.keys, ['route-reflector', 'node-role.kubernetes.io/control-plane', 'zone']);
      assert.deepEqual(parseSelector('all()').keys, []);
      assert.deepEqual(parseSelector('global() || has(a)').keys, ['a']);
    });

    it('exposes a frozen AST', () => {
      const s = parseSelector("a in {'y', 'x'} && !has(b)");
      assert.deepEqual(s.ast, {
        kind: 'and',
        operands: [
          { kind: 'in', key: 'a', values: ['x', 'y'] },
          { kind: 'not', operand: { kind: 'has', key: 'b' } },
        ],
      });
      assert.ok(Object.isFrozen(s.ast));
      assert.ok(Object.isFrozen(s.keys));
    });

    it('matches works when detached from the selector', () => {
      const { matches } = parseSelector('has(a)');
      assert.equal(matches({ a: '' }), true);
    });
  });

  describe('errors', () => {
    const OPERAND = 'an expression (a label comparison, has(), all(), global(), "!" or "(")';
    const OPS = '==, !=, in, not in, contains, starts with, ends with';
    const cases: { sel: string; pos: number; expected: string; found: string; why: string }[] = [
      {
        why: 'unterminated string',
        sel: "a == 'x",
        pos: 5,
        expected: "a closing ' for the string that starts here",
        found: 'end of selector',
      },
      {
        why: 'unterminated double-quoted string',
        sel: 'a in {"x", "y}',
        pos: 11,
        expected: 'a closing " for the string that starts here',
        found: 'end of selector',
      },
      { why: 'missing )', sel: "(a == 'x'", pos: 9, expected: '"&&", "||" or ")"', found: 'end of selector' },
      { why: '== without value', sel: 'a ==', pos: 4, expected: 'a quoted string', found: 'end of selector' },
      { why: '== with a label', sel: 'b == b', pos: 5, expected: 'a quoted string', found: 'label "b"' },
      { why: 'trailing &&', sel: "a == 'x' &&", pos: 11, expected: OPERAND, found: 'end of selector' },
      { why: 'trailing ||', sel: 'has(a) || ', pos: 10, expected: OPERAND, found: 'end of selector' },
      {
        why: 'unknown function',
        sel: 'foo(x)',
        pos: 3,
        expected:
          'an operator after label "foo" (there is no function foo(); the functions are has(), all() and global())',
        found: '"("',
      },
      {
        why: 'space before has(',
        sel: 'has (a)',
        pos: 4,
        expected: '"has(" with no space before "("',
        found: '"("',
      },
      {
        why: 'in without braces',
        sel: "a in 'x'",
        pos: 5,
        expected: `"{" (a set such as {'a', 'b'}) after "in"`,
        found: "string 'x'",
      },
      {
        why: 'single =',
        sel: "a = 'x'",
        pos: 2,
        expected: `an operator after label "a" (${OPS})`,
        found: '"="',
      },
      {
        why: 'single &',
        sel: "a == 'x' & b == 'y'",
        pos: 9,
        expected: '"&&", "||" or end of selector',
        found: '"&"',
      },
      {
        why: 'missing operator between operations',
        sel: "a == 'x' b == 'y'",
        pos: 9,
        expected: '"&&", "||" or end of selector',
        found: 'label "b"',
      },
      {
        why: 'unknown word operator',
        sel: "a squiggles 'v'",
        pos: 2,
        expected: `an operator (${OPS})`,
        found: '"squiggles"',
      },
      {
        why: 'starts without with',
        sel: "a starts 'v'",
        pos: 9,
        expected: '"with" after "starts"',
        found: `"'"`,
      },
      { why: 'not without in', sel: "a not {'v'}", pos: 6, expected: '"in" after "not"', found: '"{"' },
      { why: 'empty has()', sel: 'has()', pos: 4, expected: 'a label key inside has()', found: '")"' },
      { why: 'unclosed has(', sel: 'has(a', pos: 5, expected: '")" to close has(', found: 'end of selector' },
      { why: 'all(x)', sel: 'all(x)', pos: 4, expected: '")" (all() takes no arguments)', found: '"x"' },
      { why: 'literal on the left', sel: "'b1' == b", pos: 0, expected: OPERAND, found: "string 'b1'" },
      {
        why: 'bare label',
        sel: 'b',
        pos: 1,
        expected: `an operator after label "b" (${OPS})`,
        found: 'end of selector',
      },
      { why: 'lone !', sel: '!', pos: 1, expected: OPERAND, found: 'end of selector' },
      { why: 'empty parens', sel: '()', pos: 1, expected: OPERAND, found: '")"' },
      { why: 'stray )', sel: ')', pos: 0, expected: OPERAND, found: '")"' },
      { why: 'unexpected character', sel: "a == 'b' && %", pos: 12, expected: OPERAND, found: '"%"' },
      {
        why: 'set without comma',
        sel: "a in {'x' 'y'}",
        pos: 10,
        expected: '"," or "}"',
        found: "string 'y'",
      },
      {
        why: 'double comma in set',
        sel: "a in {'x',,'y'}",
        pos: 10,
        expected: 'a quoted string or "}"',
        found: '","',
      },
      { why: 'unclosed set', sel: "a in {'x'", pos: 9, expected: '"," or "}"', found: 'end of selector' },
      {
        why: 'trailing newline',
        sel: "a == 'x'\n",
        pos: 8,
        expected: '"&&", "||" or end of selector',
        found: '"\\n"',
      },
    ];
    for (const c of cases) {
      it(`${c.why}: ${JSON.stringify(c.sel)}`, () => {
        const e = parseError(c.sel);
        assert.equal(e.selector, c.sel);
        assert.equal(e.position, c.pos);
        assert.equal(e.expected, c.expected);
        assert.equal(e.found, c.found);
        assert.throws(() => parseSelector(c.sel), SelectorParseError);
      });
    }

    it('formats the message with the selector and a caret', () => {
      const e = parseError("a == 'x' &&");
      assert.equal(e.name, 'SelectorParseError');
      assert.ok(e instanceof Error);
      assert.equal(
        e.message,
        [
          `invalid selector "a == 'x' &&" at position 11: expected ${OPERAND}, found end of selector`,
          "  a == 'x' &&",
          '             ^',
        ].join('\n'),
      );
    });

    it('keeps the caret aligned across tabs and control characters', () => {
      const e = parseError("a\t==\t'x'\n&& b");
      const lines = e.message.split('\n');
      assert.equal(lines.length, 3);
      assert.equal(lines[1], "  a\t==\t'x'\u21b5&& b");
      assert.equal(lines[2], '   \t  \t   ^');
    });

    it('rejects everything in Calico\u2019s bad-selector table', () => {
      for (const s of [
        'b == b',
        'b contains b',
        'b starts with b',
        'b ends with b',
        "'b1' == b",
        'b',
        'a b',
        '!',
        'foo == "bar" &',
        'foo == "bar" |',
        'foo != ||',
        'foo in {"", ||',
        'foo in ""',
        '"FOO',
        `"FOO'`,
        `'FOO`,
        '(',
        '(a == "foo"',
        ')',
        '()',
        '%',
        'a == "b" && %',
        'a == "b" || %',
        'a ',
        'has(foo) &&',
        'label starts foo "value"',
        'label ends foo "value"',
      ]) {
        assert.ok(trySelector(s) instanceof SelectorParseError, s);
      }
    });
  });

  describe('cache', () => {
    beforeEach(() => clearSelectorCache());

    it('returns the same compiled selector for the same text', () => {
      const a = parseSelectorCached('has(a)');
      assert.equal(parseSelectorCached('has(a)'), a);
      assert.equal(trySelector('has(a)'), a);
      assert.notEqual(parseSelector('has(a)'), a);
    });

    it('throws (cached) parse errors', () => {
      assert.throws(() => parseSelectorCached('a =='), SelectorParseError);
      assert.throws(
        () => parseSelectorCached('a =='),
        (e: unknown) => e instanceof SelectorParseError && e.position === 4,
      );
    });
  });

  describe('unquotedBangSelectors (the YAML tag trap)', () => {
    const doc = [
      'apiVersion: projectcalico.org/v3', // 1
      'kind: BGPPeer', // 2
      'metadata:', // 3
      '  name: peer-to-rrs', // 4
      'spec:', // 5
      '  nodeSelector: !has(route-reflector)', // 6
      "  peerSelector: '!has(x)'", // 7
      '  # nodeSelector: !has(commented)', // 8
      '---', // 9
      'spec:', // 10
      '  peerSelector:   !has(a) && zone == "x"   # comment', // 11
      '  description: |', // 12
      '    nodeSelector: !has(inside-a-block-scalar)', // 13
      '', // 14
      '    still in the block', // 15
      '  "nodeSelector": !has(quoted-key)', // 16
      '  items:', // 17
      '  - nodeSelector: !has(in-a-list)', // 18
      '    selector: "!has(ok)"', // 19
      '  - selector: !!str has(explicit-str)', // 20
      '    namespaceSelector: !all()', // 21
      '  other: !has(not-a-selector-key)', // 22
      '  nodeSelector: all()', // 23
    ].join('\n');

    it('finds unquoted selectors that start with !', () => {
      assert.deepEqual(unquotedBangSelectors(doc), [
        { line: 6, text: 'nodeSelector: !has(route-reflector)' },
        { line: 11, text: 'peerSelector:   !has(a) && zone == "x"   # comment' },
        { line: 16, text: '"nodeSelector": !has(quoted-key)' },
        { line: 18, text: '- nodeSelector: !has(in-a-list)' },
        { line: 21, text: 'namespaceSelector: !all()' },
      ]);
    });

    it('handles CRLF and empty input', () => {
      assert.deepEqual(unquotedBangSelectors('a: 1\r\nnodeSelector: !has(x)\r\n'), [
        { line: 2, text: 'nodeSelector: !has(x)' },
      ]);
      assert.deepEqual(unquotedBangSelectors(''), []);
    });

    it('what it guards against: js-yaml rejects the tag, quoting fixes it', () => {
      assert.throws(() => yaml.load('nodeSelector: !has(route-reflector)'), /unknown tag/);
      assert.deepEqual(yaml.load("nodeSelector: '!has(route-reflector)'"), {
        nodeSelector: '!has(route-reflector)',
      });
      assert.deepEqual(unquotedBangSelectors("nodeSelector: '!has(route-reflector)'"), []);
    });
  });

  describe('properties (fast-check)', () => {
    type Ast =
      | { kind: 'all' | 'global' }
      | { kind: 'has'; key: string }
      | { kind: 'eq' | 'ne' | 'contains' | 'startsWith' | 'endsWith'; key: string; value: string }
      | { kind: 'in' | 'notIn'; key: string; values: string[] }
      | { kind: 'not'; operand: Ast }
      | { kind: 'and' | 'or'; operands: Ast[] };
    /** A generated selector: the AST, one of many ways to write it, and its binding strength. */
    interface Gen {
      ast: Ast;
      text: string;
      prec: 'or' | 'and' | 'atom';
    }

    const gen = (ast: Ast, text: string, prec: Gen['prec']): Gen => ({ ast, text, prec });

    const KEYS = [
      'a',
      'b',
      'zone',
      'in',
      'has',
      'constructor',
      'topology.kubernetes.io/zone',
      'projectcalico.org/RouteReflectorClusterID',
      'node-role.kubernetes.io/control-plane',
    ];
    const VALUES = ['', 'x', 'y', 'xy', 'yx', 'true', 'us-east-1a', 'a b', "it's", 'say "hi"'];
    const keyArb = fc.constantFrom(...KEYS);
    const valueArb = fc.constantFrom(...VALUES);
    const ws = fc.constantFrom('', ' ', '  ', '\t', ' \t ');
    const ws1 = fc.constantFrom(' ', '  ', '\t', ' \t');
    const quoted = (v: string): fc.Arbitrary<string> =>
      v.includes("'")
        ? fc.constant(`"${v}"`)
        : v.includes('"')
          ? fc.constant(`'${v}'`)
          : fc.constantFrom(`'${v}'`, `"${v}"`);

    const cmpOp = fc.constantFrom('eq', 'ne', 'contains', 'startsWith', 'endsWith') as fc.Arbitrary<
      'eq' | 'ne' | 'contains' | 'startsWith' | 'endsWith'
    >;
    const OP_SPELLINGS: Record<string, string[]> = {
      eq: ['=='],
      ne: ['!='],
      contains: ['contains'],
      startsWith: ['starts with', 'startswith', 'starts \t with'],
      endsWith: ['ends with', 'endswith'],
      in: ['in'],
      notIn: ['not in', 'notin', 'not  in'],
    };

    const comparison: fc.Arbitrary<Gen> = fc
      .tuple(keyArb, cmpOp, valueArb, ws1, ws)
      .chain(([key, kind, value, before, after]) =>
        fc.tuple(fc.constantFrom(...OP_SPELLINGS[kind]), quoted(value)).map(([op, q]) => ({
          ast: { kind, key, value },
          // Word operators need a space after the key; symbolic ones do not, but spaces are fine.
          text: `${key}${before}${op}${after}${q}`,
          prec: 'atom' as const,
        })),
      );
    const setOp: fc.Arbitrary<Gen> = fc
      .tuple(
        keyArb,
        fc.constantFrom('in', 'notIn') as fc.Arbitrary<'in' | 'notIn'>,
        fc.array(valueArb, { maxLength: 4 }),
      )
      .chain(([key, kind, values]) =>
        fc
          .tuple(fc.constantFrom(...OP_SPELLINGS[kind]), fc.tuple(...values.map(quoted)), ws, fc.boolean())
          .map(([op, qs, space, trailingComma]) => ({
            ast: { kind, key, values },
            text: `${key} ${op}${space}{${space}${qs.join(`${space},${space}`)}${trailingComma && qs.length > 0 ? ',' : ''}}`,
            prec: 'atom' as const,
          })),
      );
    const leaf: fc.Arbitrary<Gen> = fc.oneof(
      { arbitrary: comparison, weight: 4 },
      { arbitrary: setOp, weight: 2 },
      {
        arbitrary: fc
          .tuple(keyArb, ws)
          .map(([key, s]) => gen({ kind: 'has', key }, `has(${s}${key}${s})`, 'atom')),
        weight: 2,
      },
      { arbitrary: fc.constant(gen({ kind: 'all' }, 'all()', 'atom')), weight: 1 },
      { arbitrary: fc.constant(gen({ kind: 'global' }, 'global()', 'atom')), weight: 1 },
    );
    const paren = (g: Gen, s: string): string => `(${s}${g.text}${s})`;

    const { expr } = fc.letrec<{ expr: Gen }>((tie) => ({
      expr: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc
          .tuple(tie('expr'), ws)
          .map(([g, s]) =>
            gen({ kind: 'not', operand: g.ast }, `!${s}${g.prec === 'atom' ? g.text : paren(g, s)}`, 'atom'),
          ),
        fc
          .tuple(tie('expr'), tie('expr'), ws)
          .map(([x, y, s]) =>
            gen(
              { kind: 'and', operands: [x.ast, y.ast] },
              [x, y].map((g) => (g.prec === 'or' ? paren(g, s) : g.text)).join(`${s}&&${s}`),
              'and',
            ),
          ),
        fc
          .tuple(tie('expr'), tie('expr'), ws)
          .map(([x, y, s]) =>
            gen({ kind: 'or', operands: [x.ast, y.ast] }, `${x.text}${s}||${s}${y.text}`, 'or'),
          ),
        fc.tuple(tie('expr'), ws).map(([g, s]) => gen(g.ast, paren(g, s), 'atom')),
      ),
    }));
    const selectorArb = fc.tuple(expr, ws, ws).map(([g, a, b]) => ({ ...g, text: `${a}${g.text}${b}` }));

    const labelsArb: fc.Arbitrary<Record<string, string>> = fc
      .uniqueArray(fc.tuple(keyArb, valueArb), { selector: (t) => t[0], maxLength: KEYS.length })
      .map((entries) => Object.fromEntries(entries));

    /** Deliberately naive: walks the generated AST with plain own-property checks. */
    function reference(n: Ast, labels: Record<string, string>): boolean {
      const present = (k: string): boolean => Object.prototype.hasOwnProperty.call(labels, k);
      switch (n.kind) {
        case 'all':
        case 'global':
          return true;
        case 'has':
          return present(n.key);
        case 'eq':
          return present(n.key) && labels[n.key] === n.value;
        case 'ne':
          return !present(n.key) || labels[n.key] !== n.value;
        case 'contains':
          return present(n.key) && labels[n.key].indexOf(n.value) >= 0;
        case 'startsWith':
          return present(n.key) && labels[n.key].slice(0, n.value.length) === n.value;
        case 'endsWith':
          return (
            present(n.key) &&
            labels[n.key].length >= n.value.length &&
            labels[n.key].slice(labels[n.key].length - n.value.length) === n.value
          );
        case 'in':
          return present(n.key) && n.values.indexOf(labels[n.key]) >= 0;
        case 'notIn':
          return !present(n.key) || n.values.indexOf(labels[n.key]) < 0;
        case 'not':
          return !reference(n.operand, labels);
        case 'and':
          return n.operands.every((o) => reference(o, labels));
        case 'or':
          return n.operands.some((o) => reference(o, labels));
      }
    }

    it('matches agrees with a naive evaluation of the generated AST', () => {
      fc.assert(
        fc.property(selectorArb, fc.array(labelsArb, { minLength: 1, maxLength: 8 }), (g, labelSets) => {
          const s: Selector = parseSelector(g.text);
          for (const labels of labelSets) {
            if (s.matches(labels) !== reference(g.ast, labels)) return false;
          }
          return true;
        }),
        { numRuns: 2000 },
      );
    });

    it('toString() re-parses to an equivalent selector, and is a fixed point', () => {
      fc.assert(
        fc.property(selectorArb, fc.array(labelsArb, { minLength: 1, maxLength: 8 }), (g, labelSets) => {
          const s = parseSelector(g.text);
          const again = parseSelector(s.toString());
          assert.equal(again.toString(), s.toString());
          assert.deepEqual(again.keys, s.keys);
          for (const labels of labelSets) assert.equal(again.matches(labels), s.matches(labels));
        }),
        { numRuns: 1000 },
      );
    });

    it('never throws anything but SelectorParseError, with a position inside the text', () => {
      const alphabet = fc.constantFrom(
        ...'ab()!=&|{},\'" \tinotcshaglb'.split(''),
        'has(',
        'all()',
        ' in ',
        '==',
      );
      fc.assert(
        fc.property(
          fc.array(alphabet, { maxLength: 20 }).map((xs) => xs.join('')),
          (text) => {
            const r = trySelector(text);
            if (r instanceof SelectorParseError) {
              return (
                r.position >= 0 && r.position <= text.length && r.message.startsWith('invalid selector ')
              );
            }
            return parseSelector(r.toString()).toString() === r.toString();
          },
        ),
        { numRuns: 3000 },
      );
    });
  });
});
