// The conditional bench problem is written twice (bench/conditional.ts for Sibyl,
// bench/conditional_problem.py for Optuna's define-by-run objective): both must give the same
// value at the same points, or the side-by-side comparison would compare different problems.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CONDITIONAL_ARGMIN, CONDITIONAL_OPTIMUM, CONDITIONAL_SPACE, optimizerTree, runConditional } from '../bench/conditional.js';
import { treeProblem } from '../suggestion-algorithms/conditions.js';
import { Rng } from '../suggestion-algorithms/rng.js';
import { sampleAssignment } from '../suggestion-algorithms/space.js';

const PYTHON = '/usr/bin/python3';
const PROBLEM = fileURLToPath(new URL('../../bench/conditional_problem.py', import.meta.url));

test('optimizer-tree: the TypeScript and Python functions agree on 300 points of the tree, and f* is attained at the stated argmin', () => {
  const points = [CONDITIONAL_ARGMIN, ...Array.from({ length: 300 }, (_, i) => sampleAssignment(CONDITIONAL_SPACE, new Rng(9, i)))];
  for (const p of points) assert.equal(treeProblem(CONDITIONAL_SPACE, p), undefined, JSON.stringify(p));
  const branches = new Set(points.map((p) => `${p['optimizer']}/${'nesterov' in p}/${'width3' in p}`));
  assert.ok(branches.size >= 8, `the points cover the branches (${[...branches].join(' ')})`);
  const r = spawnSync(PYTHON, [PROBLEM, '--eval'], { input: JSON.stringify(points), encoding: 'utf8' });
  assert.equal(r.error, undefined, `${PYTHON} must run (${r.error?.message})`);
  assert.equal(r.status, 0, r.stderr);
  const python = JSON.parse(r.stdout) as number[];
  assert.equal(python.length, points.length);
  points.forEach((p, i) => assert.ok(Math.abs(optimizerTree(p) - python[i]!) <= 1e-12 * Math.max(1, Math.abs(python[i]!)), `${JSON.stringify(p)}: ${optimizerTree(p)} vs ${python[i]}`));
  assert.ok(Math.abs(optimizerTree(CONDITIONAL_ARGMIN) - CONDITIONAL_OPTIMUM) < 1e-12);
  for (const p of points) assert.ok(optimizerTree(p) >= CONDITIONAL_OPTIMUM, 'no point below the optimum');
});

test('the bench runner proposes valid trees and its best-so-far never increases', () => {
  const best = runConditional('tpe', 1, 30);
  assert.equal(best.length, 30);
  for (let i = 1; i < best.length; i++) assert.ok(best[i]! <= best[i - 1]!);
});
