#!/usr/bin/env node
// The `sibyl` command. Exit codes: 0 success, 1 the study failed, 2 invalid spec or usage.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { SpecError } from '../spec/errors.js';
import { DataDirBusyError, lockDataDir } from '../store/lock.js';
import { Store } from '../store/store.js';
import { parseArgs, stringFlag, UsageError, type ParsedArgs } from './args.js';
import { bestText, studiesTable, studyJson, trialJson, trialsTable } from './report.js';
import { runStudy } from './run.js';

const USAGE = `Usage: sibyl <command> [options]

Commands:
  run <study.yaml>       run a study to its end (resumes an unfinished study of the same name)
  studies                list the studies in the data directory
  trials <study>         list a study's trials
  best <study>           show a study's best trial

Options:
  --data-dir <dir>       where the store and trial logs live (default $SIBYL_DATA_DIR or ./.sibyl)
  --json                 machine-readable output (studies, trials, best)
  --help                 this text
`;

async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, ['json', 'help'], ['data-dir']);
  const [command, ...rest] = args.positionals;
  if (args.flags.has('help') || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!command) throw new UsageError('no command given');
  const dataDir = resolve(stringFlag(args, 'data-dir') ?? process.env['SIBYL_DATA_DIR'] ?? '.sibyl');

  switch (command) {
    case 'run': {
      const file = single(rest, 'run <study.yaml>');
      return withStore(dataDir, (store) => runStudy({ file, dataDir, store, out: process.stdout, err: process.stderr }), { exclusive: true });
    }
    case 'studies':
      none(rest, 'studies');
      return withStore(dataDir, (store) => {
        const studies = store.listStudies();
        print(args, studies.map((s) => studyJson(store, s)), () => studiesTable(store, studies));
        return 0;
      });
    case 'trials':
    case 'best': {
      const name = single(rest, `${command} <study>`);
      return withStore(dataDir, (store) => {
        const study = store.getStudyByName(name);
        if (!study) throw new UsageError(`no study named "${name}" in ${dataDir}`);
        if (command === 'trials') {
          const trials = store.listTrials(study.id);
          print(args, trials.map((t) => trialJson(store, t)), () => trialsTable(store, study, trials));
        } else {
          const best = store.bestTrial(study.id, study.spec.objective.type);
          print(args, best ? trialJson(store, best) : null, () => bestText(store, study));
        }
        return 0;
      });
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/** Readers share the store; a runner owns it (and the trial processes tagged with it). */
async function withStore(dataDir: string, fn: (store: Store) => number | Promise<number>, { exclusive = false } = {}): Promise<number> {
  mkdirSync(dataDir, { recursive: true });
  const lock = exclusive ? lockDataDir(dataDir) : undefined;
  try {
    const store = Store.open(dataDir);
    try {
      return await fn(store);
    } finally {
      store.close();
    }
  } finally {
    lock?.release();
  }
}

function print(args: ParsedArgs, json: unknown, text: () => string): void {
  process.stdout.write(args.flags.has('json') ? `${JSON.stringify(json, null, 2)}\n` : `${text()}\n`);
}

function single(rest: readonly string[], usage: string): string {
  if (rest.length !== 1) throw new UsageError(`usage: sibyl ${usage}`);
  return rest[0]!;
}

function none(rest: readonly string[], usage: string): void {
  if (rest.length !== 0) throw new UsageError(`usage: sibyl ${usage}`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof SpecError) {
      process.stderr.write(`sibyl: invalid study: ${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof UsageError || err instanceof DataDirBusyError) {
      process.stderr.write(`sibyl: ${err.message}\n${err instanceof UsageError ? 'Run "sibyl --help" for usage.\n' : ''}`);
      process.exit(2);
    }
    process.stderr.write(`sibyl: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
