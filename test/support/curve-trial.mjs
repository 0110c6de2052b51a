#!/usr/bin/env node
// A trial for the early-stopping tests: a learning curve that rises towards its quality,
// accuracy = q · (1 − e^(−step/2)), one line per step with a pause between steps, and
// "done" when it ran to the end. Deterministic: the same quality prints the same curve.
//   node curve-trial.mjs <quality> <steps> <pause ms>
const [quality, steps, pause] = process.argv.slice(2).map(Number);
for (let step = 1; step <= steps; step++) {
  await new Promise((resolve) => setTimeout(resolve, pause));
  process.stdout.write(`step=${step} accuracy=${(quality * (1 - Math.exp(-step / 2))).toFixed(6)}\n`);
}
process.stdout.write('done\n');
