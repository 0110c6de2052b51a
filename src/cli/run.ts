// `sibyl run <study.yaml>`: runs one study in-process to its end, resuming an unfinished
// study of the same name in the same data directory.
import { readFileSync, statSync } from 'node:fs';
import { LIMITS } from '../model/limits.js';
import { dirname, resolve } from 'node:path';
import { isTerminalStudyState } from '../model/trial.js';
import { launchCheck, runtimeFactory, trialTemplateSource, validateForRuntime, type LaunchingRuntime, type RuntimeOptions } from '../runtimes/factory.js';
import { StudyService } from '../service/study-service.js';
import { parseStudyDocument, readStudyDocument } from '../spec/parse.js';
import { resolveConfigMapTemplate } from '../spec/template-source.js';
import type { Store, StudyRecord } from '../store/store.js';
import { UsageError } from './args.js';
import { ProgressDisplay } from './progress.js';
import { bestText, trialsTable } from './report.js';
import { studyShape, trialShape } from '../service/shapes.js';
import type { CheckpointVolume } from '../runtimes/kubernetes/checkpoint-volume.js';

export interface RunOptions {
  readonly file: string;
  readonly dataDir: string;
  readonly store: Store;
  readonly out: NodeJS.WriteStream;
  readonly err: NodeJS.WriteStream;
  readonly runtime: LaunchingRuntime;
  readonly kubeconfig?: string;
  /**
   * The metrics push intake (POST /api/v1/trials/:name/observations), its root URL given to
   * trials as SIBYL_PUSH_ENDPOINT. On when any of these is set, and by default for kubernetes
   * (a free port on 127.0.0.1).
   */
  readonly pushPort?: number;
  readonly pushHost?: string;
  /** The URL trials are given instead of http://<push host>:<port>. */
  readonly pushUrl?: string;
  /** Kubernetes: how long a trial's pods may stay Pending before it fails. */
  readonly pendingTimeoutMs?: number;
  /** Kubernetes: where trials keep checkpoint folders (pbt). */
  readonly checkpointVolume?: CheckpointVolume;
}

/** A study file's text (at most as large as a request body may be). */
export function readStudyText(file: string): string {
  try {
    if (statSync(file).size > LIMITS.maxBodyBytes) throw new UsageError(`${file} is larger than a study may be (${LIMITS.maxBodyBytes} bytes)`);
    return readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Returns the process exit code: 0 when the study succeeded, 1 when it failed or stopped. */
export async function runStudy(options: RunOptions): Promise<number> {
  const { store, out, err } = options;
  const doc = readStudyDocument(readStudyText(options.file));
  const configMapTemplate = await resolveConfigMapTemplate(doc, await trialTemplateSource(options.runtime, options.kubeconfig));
  const spec = parseStudyDocument(doc, configMapTemplate === undefined ? {} : { configMapTemplate });
  validateForRuntime(options.runtime, spec, options.checkpointVolume);
  const baseDir = dirname(resolve(options.file));
  const pushWanted = options.pushPort !== undefined || options.pushHost !== undefined || options.pushUrl !== undefined || options.runtime === 'kubernetes';
  // Loaded only when used, like the servers of `sibyl serve`.
  const push = pushWanted
    ? await (await import('../api/rest/push.js')).startPushServer({
      host: options.pushHost ?? '127.0.0.1',
      port: options.pushPort ?? 0,
      ...(options.pushUrl ? { url: options.pushUrl } : {}),
      studyName: spec.name,
      log: (e) => err.write(`sibyl: push intake: ${e.stack ?? e.message}\n`),
    })
    : undefined;
  // Known once the service has opened the study; events before that are of no other study.
  let progress: ProgressDisplay | undefined;
  let studyId = -1;
  try {
    // An interrupted `sibyl run` takes its trials with it; a rerun resumes the study.
    const runtimeOptions: RuntimeOptions = {
      dataDir: options.dataDir,
      onShutdown: 'delete',
      ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
      ...(push ? { pushEndpoint: push.url } : {}),
      ...(options.pendingTimeoutMs !== undefined ? { pendingTimeoutMs: options.pendingTimeoutMs } : {}),
      ...(options.checkpointVolume ? { checkpointVolume: options.checkpointVolume } : {}),
    };
    const service = new StudyService({
      store,
      runtime: await runtimeFactory(options.runtime, runtimeOptions),
      launchCheck: await launchCheck(options.runtime, { ...runtimeOptions, log: (message) => err.write(`sibyl: ${message}\n`) }),
      defaultRuntime: options.runtime,
      launchRuntime: options.runtime,
      baseDir,
      dataDir: options.dataDir,
      ...(options.checkpointVolume ? { checkpointVolume: options.checkpointVolume } : {}),
      onEvent: (e) => (e.type === 'study' || e.trial.studyId === studyId) && progress?.onEvent(e),
      onError: (e) => err.write(`sibyl: ${e.message}\n`),
    });
    const scheduler = service.scheduler;
    let study: StudyRecord;
    try {
      study = await service.openStudy(spec, baseDir, options.runtime, options.dataDir);
    } catch (e) {
      await scheduler.close();
      throw e;
    }
    studyId = study.id;
    if (study.reason !== undefined && isTerminalStudyState(study.state)) {
      out.write(`Study ${study.name} already ended: ${study.state} (${study.reason}).\n`);
    }
    progress = new ProgressDisplay(store, study.id, out);
    if (push) err.write(`sibyl: trials push metrics to ${push.url} (SIBYL_PUSH_ENDPOINT)\n`);

    const interrupted = new Promise<number>((done) => {
      const onSignal = (signal: NodeJS.Signals) => {
        err.write(`\nsibyl: ${signal}: stopping trials; run the same command again to resume.\n`);
        void scheduler.close(signal).then(() => done(130));
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    });

    await scheduler.adopt([study.id]);
    // After the adoption, which drops what re-adopted trials recorded (their logs are read again).
    push?.attach(service);
    const result = await Promise.race([scheduler.waitForEnd(study.id).then(() => undefined), interrupted]);
    await progress.stop();
    if (result !== undefined) return result;
    await scheduler.close();
  } finally {
    await progress?.stop();
    await push?.close();
  }

  const ended = (await store.getStudy(studyId))!;
  const shaped = await studyShape(store, ended);
  const trials = await Promise.all((await store.listTrials(ended.id)).map((t) => trialShape(store, ended.name, t)));
  out.write(`\n${trialsTable(shaped, trials)}\n\n`);
  out.write(`Study ${ended.name} ${ended.state} (${ended.reason}): ${ended.message ?? ''}\n`);
  out.write(`${bestText(shaped)}\n`);
  return ended.state === 'SUCCEEDED' ? 0 : 1;
}
