// Asserting a refusal of a study: a SpecError naming the field, with a reason that matches.
import assert from 'node:assert/strict';
import { SpecError } from '../../src/spec/errors.js';

export function throwsSpecError(fn: () => unknown, field: string, reason?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SpecError, `expected SpecError, got ${String(e)}`);
    assert.equal(e.field, field);
    if (reason) assert.match(e.reason, reason);
    return true;
  });
}
