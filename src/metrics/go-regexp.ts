// Katib's metricsFormat regexes are Go regexp syntax. Sibyl runs them on RE2 (re2-wasm), the
// engine Go's regexp was ported from, so nearly all of Go's syntax means the same there. The
// exceptions are re2-wasm's own JavaScript-to-RE2 rewriting (`\uXXXX`, `\cX`, `(?<`, applied even
// inside classes and `\Q…\E`) and what RE2 accepts that Go does not (`\C`, duplicate group
// names refused where Go allows them). This module turns a Go pattern into a pattern re2-wasm
// reads with the same meaning, or refuses it naming the construct; it never changes a meaning.
//
// Each row of GO_SYNTAX is one construct and what happens to it (checked against Go's
// regexp/syntax: see test/katib-quirks.test.ts).

export type Handling = 'same' | 'translated' | 'refused';

export interface GoSyntaxRow {
  readonly construct: string;
  readonly handling: Handling;
  readonly note: string;
}

export const GO_SYNTAX: readonly GoSyntaxRow[] = [
  { construct: '(?i) (?m) (?s) (?U), (?flags:re), (?-flags)', handling: 'same', note: 'RE2 has Go\'s four flags with the same meaning' },
  { construct: '[[:alpha:]] and the other POSIX classes, [[:^alpha:]]', handling: 'same', note: 'RE2 reads them as Go does (ASCII classes)' },
  { construct: '\\A \\z ^ $ \\b \\B', handling: 'same', note: 'without (?m), $ is the end of the text as in Go, not before a final newline' },
  { construct: '\\pL \\p{Greek} \\PL \\p{^Greek}, \\d \\w \\s (ASCII)', handling: 'same', note: 'Unicode classes and ASCII Perl classes, as in Go' },
  { construct: '\\x41 \\x{41} \\101 \\a \\f \\t \\n \\r \\v, \\<punctuation>', handling: 'same', note: 'the same escapes' },
  { construct: '(?P<name>re) (?<name>re)', handling: 'translated', note: 'becomes (re): the collector reads groups by position, and Go allows a name twice where RE2 does not' },
  { construct: '\\Q…\\E', handling: 'translated', note: 'spelled out as escaped literals, which re2-wasm cannot rewrite' },
  { construct: '< inside a class', handling: 'translated', note: 'becomes \\< so that re2-wasm does not read [(?<] as a named group' },
  { construct: '\\C', handling: 'refused', note: 'a single byte: RE2 only, not Go' },
  { construct: '\\uXXXX \\cX', handling: 'refused', note: 'not Go syntax (re2-wasm would accept them as JavaScript escapes)' },
  { construct: '\\Z', handling: 'refused', note: 'not Go syntax; \\z is the end of the text' },
  { construct: '\\1 … \\9, (?P=name)', handling: 'refused', note: 'backreferences: not in Go (RE2)' },
  { construct: '(?=re) (?!re) (?<=re) (?<!re)', handling: 'refused', note: 'lookaround: not in Go (RE2)' },
  { construct: '(?>re) (?#…) (?x) and other (?…)', handling: 'refused', note: 'not in Go; Go knows only (?flags), (?flags:re) and named groups' },
];

export type Translation = { readonly source: string } | { readonly refused: string };


const FLAG_GROUP = /^\(\?[imsU]*(?:-[imsU]*)?[:)]/;
const CAPTURE_NAME = /^[A-Za-z0-9_]+$/;
const METACHARACTERS = new Set('\\.+*?()|[]{}^$');
const OCTAL = /[0-7]/;

interface Refusal {
  readonly refused: string;
}

const refuse = (construct: string, why: string): Refusal => ({ refused: `${construct} ${why}` });

/** The pattern to give re2-wasm for a Go pattern, or why it is refused. */
export function translateGoRegexp(go: string): Translation {
  if (/\p{Cs}/u.test(go)) return { refused: 'contains a lone UTF-16 surrogate, which is not valid UTF-8 (Go refuses such patterns)' };
  const out: string[] = [];
  let i = 0;
  while (i < go.length) {
    const c = go[i]!;
    if (c === '\\') {
      const escape = readEscape(go, i, false);
      if ('refused' in escape) return escape;
      if (escape.literal !== undefined) {
        out.push(quoteLiteral(escape.literal));
      } else {
        out.push(go.slice(i, escape.end));
      }
      i = escape.end;
    } else if (c === '[') {
      const cls = readClass(go, i);
      if ('refused' in cls) return cls;
      out.push(cls.text);
      i = cls.end;
    } else if (c === '(' && go[i + 1] === '?') {
      const group = readGroupOpening(go, i);
      if ('refused' in group) return group;
      out.push(group.text);
      i = group.end;
    } else {
      out.push(c);
      i += 1;
    }
  }
  return { source: out.join('') };
}

type Piece = { readonly end: number; readonly literal?: string } | Refusal;

/** An escape at `at` (a backslash): its extent, or for \Q…\E the literal text it quotes. */
function readEscape(go: string, at: number, inClass: boolean): Piece {
  const next = go[at + 1];
  if (next === undefined) return { end: go.length }; // a trailing backslash: RE2 refuses it as Go does
  switch (next) {
    case 'Q': {
      if (inClass) return refuse('\\Q inside a character class', 'is not Go syntax');
      const close = go.indexOf('\\E', at + 2);
      const end = close === -1 ? go.length : close + 2;
      return { end, literal: go.slice(at + 2, close === -1 ? go.length : close) };
    }
    case 'C':
      return refuse('\\C', '(one byte) is not Go syntax');
    case 'u':
      return refuse('\\u', 'escapes are not Go syntax: write \\x{XXXX}');
    case 'c':
      return refuse('\\c', 'control escapes are not Go syntax: write \\x{01} for \\cA');
    case 'Z':
      return refuse('\\Z', 'is not Go syntax: \\z is the end of the text');
    case 'p':
    case 'P': {
      // \p{Name} up to its brace, so nothing inside it is read as syntax.
      if (go[at + 2] !== '{') return { end: Math.min(go.length, at + 3) };
      const close = go.indexOf('}', at + 3);
      return { end: close === -1 ? go.length : close + 1 };
    }
    default:
      // A lone digit 1–9 is a backreference; 1–7 followed by an octal digit is an octal escape.
      if (/[1-9]/.test(next) && !(OCTAL.test(next) && OCTAL.test(go[at + 2] ?? ''))) {
        return refuse(`\\${next}`, 'is a backreference, which Go\'s regexp (RE2) does not support');
      }
      return { end: at + 2 };
  }
}

/** A character class from its `[` to its `]`, with `<` escaped (see GO_SYNTAX). */
function readClass(go: string, at: number): { readonly text: string; readonly end: number } | Refusal {
  const out = ['['];
  let i = at + 1;
  if (go[i] === '^') {
    out.push('^');
    i += 1;
  }
  let first = true; // `]` right after `[` or `[^` is a literal
  while (i < go.length) {
    const c = go[i]!;
    if (c === ']' && !first) return { text: `${out.join('')}]`, end: i + 1 };
    first = false;
    if (c === '[' && go[i + 1] === ':') {
      const close = go.indexOf(':]', i + 2);
      if (close !== -1) {
        out.push(go.slice(i, close + 2));
        i = close + 2;
        continue;
      }
    }
    if (c === '\\') {
      const escape = readEscape(go, i, true);
      if ('refused' in escape) return escape;
      out.push(go.slice(i, escape.end));
      i = escape.end;
      continue;
    }
    out.push(c === '<' ? '\\<' : c);
    i += 1;
  }
  return { text: out.join(''), end: go.length }; // unterminated: RE2 refuses it as Go does
}

/** `(?` at `at`: a flag group (kept), a named group (made plain), or a refusal naming the construct. */
function readGroupOpening(go: string, at: number): { readonly text: string; readonly end: number } | Refusal {
  const rest = go.slice(at);
  const flags = FLAG_GROUP.exec(rest);
  if (flags) return { text: flags[0], end: at + flags[0].length };
  const named = /^\(\?P?<(?![=!])/.exec(rest);
  if (named) {
    const close = go.indexOf('>', at + named[0].length);
    const name = close === -1 ? '' : go.slice(at + named[0].length, close);
    if (!CAPTURE_NAME.test(name)) {
      return refuse(`${excerpt(rest)}`, 'is not a valid named group: Go\'s group names are letters, digits and _ (A–Z, a–z, 0–9, _), closed by >');
    }
    return { text: '(', end: close + 1 };
  }
  const known: [RegExp, string][] = [
    [/^\(\?[=!]/, 'is a lookahead, which Go\'s regexp (RE2) does not support'],
    [/^\(\?<[=!]/, 'is a lookbehind, which Go\'s regexp (RE2) does not support'],
    [/^\(\?P[=>]/, 'is a named backreference or recursion, which Go\'s regexp (RE2) does not support'],
    [/^\(\?>/, 'is an atomic group, which Go\'s regexp (RE2) does not support'],
    [/^\(\?#/, 'is a comment group, which Go\'s regexp does not support'],
  ];
  for (const [pattern, why] of known) {
    const m = pattern.exec(rest);
    if (m) return refuse(m[0], why);
  }
  const flag = /^\(\?-?([^)]?)/.exec(rest)?.[1];
  if (flag && /[a-zA-Z]/.test(flag) && !'imsU'.includes(flag)) {
    return refuse(`(?${flag}`, `uses flag ${flag}, which Go does not have (Go's flags: i, m, s, U)`);
  }
  return refuse(excerpt(rest), 'is not Go syntax: Go knows (?flags), (?flags:re), (?P<name>re) and (?<name>re)');
}

/** Literal text as RE2 syntax that re2-wasm cannot rewrite: metacharacters escaped, `<` and `/` too. */
function quoteLiteral(text: string): string {
  let out = '';
  for (const ch of text) out += METACHARACTERS.has(ch) || ch === '<' || ch === '/' ? `\\${ch}` : ch;
  return out;
}

function excerpt(text: string): string {
  return text.length > 12 ? `${text.slice(0, 12)}…` : text;
}
