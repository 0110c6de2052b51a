// The benches' one way to run their Optuna side: Debian's /usr/bin/python3 (where
// python3-optuna lives), a script of bench/ that prints one JSON document on stdout.
import { spawn, spawnSync } from 'node:child_process';

export const PYTHON = '/usr/bin/python3';

/** Why Optuna's side cannot run here, or undefined when `import optuna` works. */
export function optunaMissing(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import optuna'], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} not runnable (${probe.error.message})`;
  if (probe.status !== 0) return `${PYTHON} cannot import optuna (install python3-optuna: scripts/ensure-optuna.sh)`;
  return undefined;
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
