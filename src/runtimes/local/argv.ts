// What a local trial runs: the template's `command`, or else the primary container's
// command + args, with placeholders substituted argument by argument.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';
import { SpecError } from '../../spec/errors.js';
import { containerArgv, primaryContainer } from '../../spec/containers.js';
import { placeholdersIn, substitute } from '../../spec/template.js';
import type { StudySpec, TrialTemplateSpec } from '../../spec/types.js';

export function templateArgv(template: TrialTemplateSpec): readonly string[] | undefined {
  if (template.command) return template.command;
  if (!template.trialSpec || !template.primaryContainerName) return undefined;
  const found = primaryContainer(template.trialSpec, template.primaryContainerName, template.primaryPodLabels);
  return 'container' in found ? containerArgv(found.container) : undefined;
}

/**
 * The trial's argv. `inactive` names trialParameters without a value (conditional parameters
 * the assignment leaves out): an argument that carries one is dropped, `--momentum=${…}` as
 * a whole and, where the placeholder is an argument of its own, the option just before it
 * too (`--momentum`, `${…}`), so the program sees neither and uses its default.
 */
export function trialArgv(template: TrialTemplateSpec, values: ReadonlyMap<string, string>, inactive: ReadonlySet<string> = new Set()): string[] {
  const argv = templateArgv(template);
  if (!argv) throw new Error('the trial template has nothing to run'); // validateForLocal rules this out
  const dropped = new Set<number>();
  argv.forEach((arg, i) => {
    const names = placeholdersIn(arg);
    if (!names.some((n) => inactive.has(n))) return;
    dropped.add(i);
    const before = argv[i - 1];
    const alone = arg.trim() === `\${trialParameters.${names[0]}}` && names.length === 1;
    if (alone && i > 1 && before !== undefined && before.startsWith('-') && placeholdersIn(before).length === 0) dropped.add(i - 1);
  });
  return argv.filter((_, i) => !dropped.has(i)).map((arg) => substitute(arg, values));
}

/** The collectors the local runtime reads itself: its output, a metrics file, summary files. */
const LOCAL_COLLECTORS: readonly string[] = ['StdOut', 'File', 'TensorFlowEvent'];

/** What the local runtime needs beyond a valid spec. */
export function validateForLocal(spec: StudySpec): void {
  const t = spec.trialTemplate;
  if (!templateArgv(t)) {
    const why = t.trialSpec
      ? `the primary container "${t.primaryContainerName}" has no command or args in trialSpec`
      : 'there is no trialSpec';
    throw new SpecError('spec.trialTemplate.command', `required to run trials locally: ${why}`);
  }
  if (!LOCAL_COLLECTORS.includes(spec.metricsCollector.kind)) {
    throw new SpecError(
      'spec.metricsCollectorSpec.collector.kind',
      `${spec.metricsCollector.kind} is not supported by the local runtime yet (it reads the trial's output or the files it writes: use ${LOCAL_COLLECTORS.join(', ')})`,
    );
  }
}

/** Where the program of a local study's command is looked for, and found (or not). */
export async function checkLocalCommand(spec: StudySpec, baseDir: string, path = process.env['PATH'] ?? ''): Promise<void> {
  const argv = templateArgv(spec.trialTemplate);
  const program = argv?.[0];
  if (program === undefined || placeholdersIn(program).length > 0) return; // chosen per trial: nothing to check now
  const field = spec.trialTemplate.command ? 'spec.trialTemplate.command[0]' : 'spec.trialTemplate.trialSpec';
  const candidates = program.includes('/') ? [resolve(baseDir, program)] : path.split(delimiter).filter(Boolean).map((dir) => join(dir, program));
  for (const file of candidates) {
    try {
      await access(file, constants.X_OK);
      if ((await stat(file)).isFile()) return;
    } catch {
      // not there, or not executable: the next candidate
    }
  }
  throw new SpecError(field, program.includes('/')
    ? `"${program}" is not an executable file in ${baseDir}, where this study's trials run`
    : `"${program}" is not found on the PATH of the process that runs the trials`);
}
