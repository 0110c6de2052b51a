// The Python client's own unittest suite (clients/python/tests), run with Debian's python3, one
// module per test here. Each Python test class starts a real `sibyl serve` (this repository's
// dist/src/cli/main.js, with this Node) as a child process, so the restart scenario can stop and
// start it on the same port and data directory from inside the Python test.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CLI } from './support/cli.js';

const PACKAGE = fileURLToPath(new URL('../../clients/python/', import.meta.url));
/** Debian's interpreter, as the client promises to work with what the system ships. */
const PYTHON = process.env['SIBYL_TEST_PYTHON'] ?? '/usr/bin/python3';

const MODULES: readonly [string, string][] = [
  ['test_client', 'every client call against a real server'],
  ['test_ask_tell', 'ask/tell with should_stop under a medianstop study'],
  ['test_constraints', 'outcome constraints: feasibility, violation and a feasible best trial'],
  ['test_pareto', 'a multi-objective study: objective_values and the Pareto front'],
  ['test_warm_start', 'enqueue, enqueued and importance'],
  ['test_errors', 'the exception types for 400/401/404/409, retries on 503 and lost connections only, timeouts'],
  ['test_retry', 'tune() rides out a server restarted mid-study'],
  ['test_tune', 'tune() with 4 workers never runs one trial twice'],
  ['test_notebook', 'examples/notebooks/tune-mlp.ipynb runs cell by cell and reaches the best trial'],
  ['test_install', 'pip installs the package offline, typed'],
];

function runPython(module: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-W', 'error::ResourceWarning', '-m', 'unittest', '-v', `tests.${module}`], {
      cwd: PACKAGE,
      env: { ...process.env, SIBYL_NODE: process.execPath, SIBYL_MAIN: CLI, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

for (const [module, what] of MODULES) {
  test(`python client: ${what} (${module})`, { timeout: 240_000 }, async () => {
    assert.ok(existsSync(PYTHON), `${PYTHON} is missing: the Python client's tests need Debian's python3 (set SIBYL_TEST_PYTHON to use another)`);
    const { code, output } = await runPython(module);
    assert.equal(code, 0, output);
    const ran = /^Ran (\d+) tests? in /m.exec(output);
    assert.ok(ran && Number(ran[1]) > 0, `no Python test ran:\n${output}`);
    assert.match(output, /^OK$/m, output);
    assert.doesNotMatch(output, /skipped/, 'no Python test is skipped');
  });
}
