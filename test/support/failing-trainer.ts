// A trial program for tests: fails (exit 1) when its trial is one of those named by `--fail`,
// otherwise runs the real program given after it with the remaining arguments. Usage:
//   node failing-trainer.js --fail <trial>[,<trial>…] <program.mjs> [args…]
import { spawnSync } from 'node:child_process';

const [flag, names, program, ...args] = process.argv.slice(2);
if (flag !== '--fail' || names === undefined || program === undefined) {
  process.stderr.write('usage: failing-trainer --fail <trial>[,<trial>...] <program> [args...]\n');
  process.exit(2);
}
const trial = process.env['SIBYL_TRIAL_NAME'] ?? '';
if (names.split(',').includes(trial)) {
  process.stderr.write(`failing-trainer: ${trial} fails on purpose\n`);
  process.exit(1);
}
const run = spawnSync(process.execPath, [program, ...args], { stdio: 'inherit' });
process.exit(run.status ?? 1);
