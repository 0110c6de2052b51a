// How deeply a YAML text nests, measured before it is composed. yaml's composer recurses once per
// level: a text nested a thousand levels deep overflows the stack, and when the overflow strikes
// inside a regular expression, Node 20's V8 aborts the whole process at the next one
// ("RegExpCompiler Allocation failed": two such requests killed `sibyl serve`). yaml's lexer and
// CST parser are iterative, so the depth is read off the CST with an explicit stack.
import { Parser, type CST } from 'yaml';
import { LIMITS } from '../model/limits.js';

/**
 * Texts nested deeper than this are refused before composing. Twice the document limit: the
 * composed document's own check (read.checkDepth, at LIMITS.maxDocumentDepth) stays the rule
 * with its precise field; this only keeps the composer well inside its stack (it overflowed
 * between 300 and 1,000 levels here).
 */
export const MAX_YAML_NESTING = 2 * LIMITS.maxDocumentDepth;

/** The deepest nesting of collections in `text` (0 for a scalar). */
export function yamlNesting(text: string): number {
  let deepest = 0;
  const stack: [CST.Token | null | undefined, number][] = [];
  for (const token of new Parser().parse(text)) stack.push([token, 0]);
  while (stack.length > 0) {
    const [token, depth] = stack.pop()!;
    if (!token) continue;
    if (token.type === 'document') stack.push([token.value, depth]);
    else if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      deepest = Math.max(deepest, depth + 1);
      for (const item of token.items) {
        if ('key' in item) stack.push([item.key, depth + 1]);
        stack.push([item.value, depth + 1]);
      }
    }
  }
  return deepest;
}
