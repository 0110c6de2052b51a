// Test support: studies built from small documents, run by a real scheduler with real processes.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRuntime } from '../../src/runtimes/local/index.js';
import type { RuntimeListener, TrialRuntime } from '../../src/runtimes/types.js';
import { Scheduler, type SchedulerEvent } from '../../src/scheduler/scheduler.js';
import { parseStudyDocument } from '../../src/spec/parse.js';
import type { StudySpec } from '../../src/spec/types.js';
import { type StudyRecord, type TrialRecord } from '../../src/store/store.js';
import { SqliteStore } from '../../src/store/sqlite.js';

export const tempDir = (prefix = 'sibyl-test-') => mkdtempSync(join(tmpdir(), prefix));

export interface StudyDoc {
  name?: string;
  parameters: unknown[];
  trialParameters: { name: string; reference: string }[];
  command: string[];
  objective?: Record<string, unknown>;
  algorithm?: Record<string, unknown>;
  budget?: Record<string, unknown>;
}

export function studySpec(doc: StudyDoc): StudySpec {
  return parseStudyDocument({
    apiVersion: 'kubeflow.org/v1beta1',
    kind: 'Experiment',
    metadata: { name: doc.name ?? 'test-study' },
    spec: {
      objective: doc.objective ?? { type: 'maximize', objectiveMetricName: 'score' },
      algorithm: doc.algorithm ?? { algorithmName: 'grid' },
      ...(doc.budget ?? {}),
      parameters: doc.parameters,
      trialTemplate: { command: doc.command, trialParameters: doc.trialParameters },
    },
  });
}

/** One int parameter x in [min, max], passed to the command as ${trialParameters.x}. */
export function intStudy(command: string, opts: { min?: number; max: number; budget?: Record<string, unknown>; objective?: Record<string, unknown>; name?: string }): StudySpec {
  return studySpec({
    ...(opts.name ? { name: opts.name } : {}),
    parameters: [{ name: 'x', parameterType: 'int', feasibleSpace: { min: String(opts.min ?? 1), max: String(opts.max) } }],
    trialParameters: [{ name: 'x', reference: 'x' }],
    command: ['sh', '-c', command],
    ...(opts.budget ? { budget: opts.budget } : {}),
    ...(opts.objective ? { objective: opts.objective } : {}),
  });
}

export interface Harness {
  readonly dataDir: string;
  readonly store: SqliteStore;
  readonly scheduler: Scheduler;
  readonly events: SchedulerEvent[];
  readonly errors: Error[];
  /** What the runtime logged. */
  readonly logs: string[];
  close(): Promise<void>;
}

/** Builds the runtime the harness's scheduler runs trials on, logging into the harness's `logs`. */
export type RuntimeFactory = (listener: RuntimeListener, context: { dataDir: string; log: (line: string) => void }) => TrialRuntime;

/** The local runtime, with its SIGTERM-to-SIGKILL grace (default 2 s), or another runtime. */
export type HarnessOptions = { gracePeriodMs?: number; runtime?: never } | { runtime: RuntimeFactory; gracePeriodMs?: never };

export function harness(dataDir = tempDir(), options: HarnessOptions = {}): Harness {
  const store = SqliteStore.open(dataDir);
  const events: SchedulerEvent[] = [];
  const errors: Error[] = [];
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);
  const runtime: RuntimeFactory = options.runtime ?? ((listener) => new LocalRuntime({ dataDir, listener, gracePeriodMs: options.gracePeriodMs ?? 2000 }));
  const scheduler = new Scheduler({
    store,
    runtime: (listener) => runtime(listener, { dataDir, log }),
    onEvent: (e) => events.push(e),
    onError: (e) => errors.push(e),
  });
  return {
    dataDir, store, scheduler, events, errors, logs,
    close: async () => {
      await scheduler.close();
      await store.close();
    },
  };
}

/** Creates the study (its working directory `workingDir`) and runs it to its end. */
export async function runToEnd(h: Harness, spec: StudySpec, seed = 1, workingDir = process.cwd()): Promise<{ study: StudyRecord; trials: TrialRecord[] }> {
  const created = await h.store.createStudy(spec, workingDir, seed);
  await h.scheduler.adopt([created.id]);
  const study = await h.scheduler.waitForEnd(created.id);
  return { study, trials: await h.store.listTrials(created.id) };
}
