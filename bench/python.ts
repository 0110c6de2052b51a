// The benches' one way to run their Optuna side: Debian's /usr/bin/python3 (where
// python3-optuna lives), a script of bench/ that prints one JSON document on stdout.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PYTHON = '/usr/bin/python3';

const ENSURE_OPTUNA = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'ensure-optuna.sh');

function importProblem(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import optuna'], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} not runnable (${probe.error.message})`;
  if (probe.status !== 0) return `${PYTHON} cannot import optuna`;
  return undefined;
}

/**
 * Why Optuna's side cannot run here, or undefined when `import optuna` works; when it does not,
 * Debian's python3-optuna is installed first (scripts/ensure-optuna.sh waits for the dpkg lock).
 */
export function optunaMissing(): string | undefined {
  if (importProblem() === undefined) return undefined;
  process.stderr.write(`optuna: not importable by ${PYTHON}; installing python3-optuna (scripts/ensure-optuna.sh)\n`);
  try {
    execFileSync('bash', [ENSURE_OPTUNA], { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch {
    return 'python3-optuna is not installed and scripts/ensure-optuna.sh failed';
  }
  return importProblem();
}

/** Runs `script` with `args` (its stderr goes to ours, for progress) and parses what it printed. */
export function runPythonJson<T>(script: string, args: readonly string[], cwd?: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'], ...(cwd === undefined ? {} : { cwd }) });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${script} exited with ${code}`));
      try {
        resolve(JSON.parse(out) as T);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}
