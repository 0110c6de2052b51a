// The nesting of a YAML text, read off its CST before it is composed (src/spec/yaml-depth.ts).
import assert from 'node:assert/strict';
import test from 'node:test';
import { parseStudyText } from '../src/spec/parse.js';
import { SpecError } from '../src/spec/errors.js';
import { MAX_YAML_NESTING, yamlNesting } from '../src/spec/yaml-depth.js';

test('yamlNesting counts collections, block and flow, keys and values', () => {
  assert.equal(yamlNesting('42'), 0);
  assert.equal(yamlNesting('a: 1'), 1);
  assert.equal(yamlNesting('a:\n  b: [1, {c: 2}]\n'), 4);
  assert.equal(yamlNesting('- - - x\n'), 3);
  assert.equal(yamlNesting('? [a, [b]]\n: 1\n'), 3);
  assert.equal(yamlNesting(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), 100_000);
});

test('texts nested past the guard are refused before yaml composes them, as often as they come', () => {
  for (const text of [`${'['.repeat(MAX_YAML_NESTING + 1)}${']'.repeat(MAX_YAML_NESTING + 1)}`, `${'- '.repeat(5000)}x\n`, `${'['.repeat(1000)}${']'.repeat(1000)}`]) {
    for (let i = 0; i < 5; i++) {
      assert.throws(() => parseStudyText(text), (e: unknown) => e instanceof SpecError && /nested too deeply/.test(e.reason));
    }
  }
  // Below the guard the document's own depth check names the limit.
  assert.throws(() => parseStudyText(`${'['.repeat(100)}${']'.repeat(100)}`), (e: unknown) => e instanceof SpecError && /nested more than 64 levels/.test(e.reason));
});
