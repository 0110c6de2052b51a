// The kubernetes runtime: one Kubernetes object per trial (a TFJob by default; any kind with a
// trialSpec), created through the API, followed with one watch per (namespace, resource), judged
// with Katib's success/failure conditions, its metrics read from the primary pod's log.
//
// Never lose a trial, never run one twice:
// - the object is named after the trial, so a create answered 409 AlreadyExists means it was
//   launched before (by us, with a lost response, or by a predecessor): it is adopted;
// - other errors (5xx, timeouts, no connection) are retried with exponential backoff capped at
//   10 s for as long as the runtime runs; `launch` returns after the first attempt and the
//   retries go on in the background (a pass of the scheduler is never held up);
// - a create rejected for good (400/403/404/422) is reported as a LaunchFailed trial.
// On the job's end the remaining log lines are emitted, then `finished`, then the object is
// deleted (unless `retain`). `shutdown` detaches: the objects keep running and the next
// runtime's `recover` re-adopts them.
import { mkdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import type { LaunchRequest, RuntimeListener, TrialOutcome, TrialRuntime } from '../types.js';
import { backoffMs, describeError, isRetryable, KubeApi, statusOf } from './api.js';
import { prepareTrialFolder, type Owner } from '../checkpoint-folders.js';
import type { CheckpointVolume } from './checkpoint-volume.js';
import { judgeJob } from './conditions.js';
import { pendingProblem, terminationProblem, type PodProblem } from './pods.js';
import { trialLogPath, TrialLogFile } from '../logs.js';
import { TrialLog } from './logs.js';
import { dumpsFiles, MetricsDumpReader } from './metrics-dump.js';
import { planFor, type KubeObject, type TrialPlan } from './render.js';
import { trialObject } from './trial-object.js';
import { STUDY_LABEL, TRIAL_LABEL, type Resource } from './resources.js';
import { ResourceWatcher } from './watch.js';

export { validateForKubernetes } from './validate.js';

export interface KubernetesRuntimeOptions {
  readonly kubeConfig: KubeConfig;
  readonly listener: RuntimeListener;
  /** Given to every trial as SIBYL_PUSH_ENDPOINT. */
  readonly pushEndpoint?: string;
  /** Progress and retries (one line each). */
  readonly log?: (message: string) => void;
  /** How trial objects are deleted (Katib uses Foreground). */
  readonly propagationPolicy?: 'Foreground' | 'Background';
  /** On shutdown: leave the objects running for the next runtime (default) or delete them. */
  readonly onShutdown?: 'detach' | 'delete';
  /** Where each trial's log lines are also written (`<logDir>/<trial>.log`, as the local runtime's). */
  readonly logDir?: string;
  /** Deadline of one API request. */
  readonly requestTimeoutMs?: number;
  /** How often a trial's pod is looked for while it does not run yet. */
  readonly podPollMs?: number;
  /**
   * How long a trial's pods may stay Pending (unschedulable, an image that does not pull) before
   * the trial fails with what the pod says (default 5 min). An image that can never be had
   * (ErrImageNeverPull, InvalidImageName) fails it at once.
   */
  readonly pendingTimeoutMs?: number;
  /** A credential per trial, given to it as SIBYL_PUSH_TOKEN, to push its own metrics. */
  readonly pushToken?: (trialName: string) => string | undefined;
  /** Where trials keep checkpoint folders (pbt): each trial's folder is made there and mounted into it. */
  readonly checkpointVolume?: CheckpointVolume;
}

type Phase = 'creating' | 'active' | 'ending' | 'done';

interface Trial {
  readonly name: string;
  readonly namespace: string;
  readonly studyName: string;
  readonly resource: Resource;
  readonly plan: TrialPlan;
  readonly retain: boolean;
  readonly watchKey: string;
  /** Reads the primary pod's log; `file` keeps its lines for the dashboard. */
  readonly log: TrialLog;
  readonly file?: TrialLogFile;
  /** File and TensorFlowEvent collectors: takes the files dumped at the container's exit out of the log. */
  readonly dump?: MetricsDumpReader;
  phase: Phase;
  /** The object was seen to exist (so its absence later means it was deleted). */
  seen: boolean;
  stopReason?: string;
  startedReported: boolean;
  ended?: Promise<void>;
  /** When the trial's object was first seen, for the pending time-out. */
  activeSince?: number;
}

export class KubernetesRuntime implements TrialRuntime {
  private readonly api: KubeApi;
  private readonly trials = new Map<string, Trial>();
  private readonly watchers = new Map<string, ResourceWatcher>();
  /** Ends in progress, including the delete after a trial was reported finished: shutdown waits for them. */
  private readonly ending = new Set<Promise<void>>();
  private readonly log: (message: string) => void;
  private alive = true;

  constructor(private readonly options: KubernetesRuntimeOptions) {
    this.api = new KubeApi(options.kubeConfig, options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {});
    this.log = options.log ?? (() => {});
    if (options.logDir) mkdirSync(options.logDir, { recursive: true });
  }

  async launch(req: LaunchRequest): Promise<void> {
    if (!this.alive || this.trials.has(req.trialName)) return;
    const plan = planFor(req.template);
    const rendered = trialObject(req, this.options);
    const volume = this.options.checkpointVolume;
    const trial = this.track(req, plan, 'creating');
    if (req.checkpoint && volume) {
      try {
        await this.prepareCheckpoint(trial, req.checkpoint.parentTrial, volume);
      } catch (err) {
        this.untrack(trial);
        throw err;
      }
      if (trial.phase !== 'creating') return; // stopped meanwhile
    }
    const first = await this.tryCreate(trial, rendered.object, 0);
    if (first === 'rejected') return; // tryCreate threw for a permanent error
    if (first === 'retry') void this.createLoop(trial, rendered.object);
  }

  /**
   * The trial's checkpoint folder, made afresh, unless its object exists already (a launch whose
   * answer was lost): that trial runs on, and its folder is its own.
   */
  private async prepareCheckpoint(trial: Trial, parentTrial: string | undefined, volume: CheckpointVolume): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.api.get(trial.resource, trial.namespace, trial.name);
        return;
      } catch (err) {
        if (statusOf(err) === 404) break;
        if (!isRetryable(err) || attempt >= 5 || !this.alive) throw new Error(`reading ${trial.resource.kind} ${trial.namespace}/${trial.name} before making its checkpoint folder failed: ${describeError(err)}`);
        await sleep(backoffMs(attempt));
      }
    }
    await prepareTrialFolder(volume.dir, trial.studyName, trial.name, parentTrial, await volumeOwner(volume));
    this.log(`${trial.name}: checkpoint folder ${trial.studyName}/${trial.name} on claim ${volume.claimName}${parentTrial ? `, a copy of ${parentTrial}'s` : ''}`);
  }

  /** One create attempt: 'done' (created or adopted), 'retry', or throws for a permanent error. */
  private async tryCreate(trial: Trial, body: KubeObject, attempt: number): Promise<'done' | 'retry' | 'rejected'> {
    try {
      const created = await this.api.create(trial.resource, trial.namespace, body);
      this.log(`${trial.name}: created ${trial.resource.kind} ${trial.namespace}/${trial.name}`);
      this.afterCreate(trial, created);
      return 'done';
    } catch (err) {
      const code = statusOf(err);
      if (code === 409) {
        this.log(`${trial.name}: ${trial.resource.kind} ${trial.namespace}/${trial.name} exists already: adopting it`);
        this.afterCreate(trial, undefined);
        return 'done';
      }
      if (isRetryable(err) && this.alive) {
        this.log(`${trial.name}: creating the ${trial.resource.kind} failed (${describeError(err)}); retry ${attempt + 1}`);
        return 'retry';
      }
      this.untrack(trial);
      if (!this.alive) return 'rejected';
      throw new Error(`creating ${trial.resource.kind} ${trial.namespace}/${trial.name} failed: ${describeError(err)}`);
    }
  }

  private async createLoop(trial: Trial, body: KubeObject): Promise<void> {
    for (let attempt = 1; this.alive && trial.phase === 'creating'; attempt++) {
      await sleep(backoffMs(attempt));
      if (!this.alive || trial.phase !== 'creating') return;
      try {
        if ((await this.tryCreate(trial, body, attempt)) !== 'retry') return;
      } catch (err) {
        this.options.listener.finished(trial.name, { kind: 'failed', reason: 'LaunchFailed', message: (err as Error).message });
        return;
      }
    }
  }

  /** The object exists (created, or found by a 409): report the start and look at it. */
  private afterCreate(trial: Trial, created: KubeObject | undefined): void {
    if (trial.phase === 'creating') trial.phase = 'active';
    trial.seen = true;
    if (trial.stopReason !== undefined) {
      // Stopped while the create was in flight: it must not keep running.
      void this.deleteObject(trial, Infinity);
      return;
    }
    this.reportStarted(trial);
    if (created) this.observe(trial, created);
    else void this.refresh(trial);
  }

  private reportStarted(trial: Trial): void {
    if (trial.startedReported) return;
    trial.startedReported = true;
    this.options.listener.started(trial.name, `kubernetes:${trial.resource.plural}${trial.resource.group ? `.${trial.resource.group}` : ''}/${trial.namespace}/${trial.name}`);
  }

  /** Reads the object once (after an adoption: the watch may have shown it before it was ours). */
  private async refresh(trial: Trial): Promise<void> {
    for (let attempt = 0; this.alive && (trial.phase === 'active' || trial.phase === 'creating'); attempt++) {
      try {
        const obj = await this.api.get(trial.resource, trial.namespace, trial.name);
        return this.observe(trial, obj);
      } catch (err) {
        if (statusOf(err) === 404) return this.vanished(trial);
        if (!isRetryable(err)) return this.log(`${trial.name}: reading the object failed: ${describeError(err)}`);
        await sleep(backoffMs(attempt));
      }
    }
  }

  private track(req: LaunchRequest, plan: TrialPlan, phase: Phase): Trial {
    const watchKey = this.ensureWatcher(req.namespace, plan.resource);
    // The pod log is read again from its start after a restart: the file starts over with it.
    const file = this.options.logDir ? new TrialLogFile(trialLogPath(this.options.logDir, req.trialName), { startOver: true }) : undefined;
    const listener = this.options.listener;
    const dump = dumpsFiles(req.metricsCollector)
      ? new MetricsDumpReader(
        req.metricsCollector,
        (f, chunk) => listener.metricsData?.(req.trialName, f, chunk),
        (problem) => {
          file?.write(`── metrics: ${problem}\n`);
          listener.metricsProblem?.(req.trialName, problem);
        },
        (line) => file?.write(`${line}\n`),
      )
      : undefined;
    const trial: Trial = {
      name: req.trialName,
      namespace: req.namespace,
      studyName: req.studyName,
      resource: plan.resource,
      plan,
      retain: req.template.retain,
      watchKey,
      phase,
      seen: false,
      startedReported: false,
      ...(file ? { file } : {}),
      ...(dump ? { dump } : {}),
      log: new TrialLog({
        api: this.api,
        kubeConfig: this.options.kubeConfig,
        namespace: req.namespace,
        podSelector: plan.podSelector(req.trialName),
        ...(plan.container ? { container: plan.container } : {}),
        emit: (line) => {
          if (dump?.consume(line)) return;
          file?.write(`${line}\n`);
          this.options.listener.output(req.trialName, line);
        },
        ...(file ? { drained: () => file.drained() } : {}),
        log: (m) => this.log(`${req.trialName}: ${m}`),
        ...(this.options.podPollMs !== undefined ? { pollMs: this.options.podPollMs } : {}),
        notRunning: (pods) => this.notRunning(req.trialName, pods),
        wrongContainer: (problem) => this.podProblem(req.trialName, problem),
      }),
    };
    this.trials.set(trial.name, trial);
    return trial;
  }

  private untrack(trial: Trial): void {
    trial.phase = 'done';
    trial.log.close();
    void trial.file?.close();
    if (this.trials.get(trial.name) === trial) this.trials.delete(trial.name);
  }

  private ensureWatcher(namespace: string, resource: Resource): string {
    const key = `${namespace}|${resource.group}|${resource.version}|${resource.plural}`;
    if (!this.watchers.has(key)) {
      const watcher = new ResourceWatcher({
        api: this.api,
        kubeConfig: this.options.kubeConfig,
        resource,
        namespace,
        log: this.log,
        ...(this.options.requestTimeoutMs !== undefined ? { connectTimeoutMs: this.options.requestTimeoutMs } : {}),
        handler: {
          listed: (objects) => {
            const present = new Map(objects.map((o) => [o['metadata']?.name as string, o]));
            for (const trial of this.trials.values()) {
              if (trial.watchKey !== key) continue;
              const obj = present.get(trial.name);
              if (obj) this.observe(trial, obj);
              // A list may have been taken just before the create it does not show (the first
              // trial's create races the watcher's first list): ask for the object itself.
              else if (trial.seen) void this.refresh(trial);
            }
          },
          event: (type, obj) => {
            const trial = this.trials.get(obj['metadata']?.name);
            if (!trial || trial.watchKey !== key) return;
            if (type === 'DELETED') void this.vanished(trial);
            else this.observe(trial, obj);
          },
        },
      });
      this.watchers.set(key, watcher);
      watcher.start();
    }
    return key;
  }

  /** A new version of a trial's object: is the job done? */
  private observe(trial: Trial, obj: KubeObject): void {
    if (trial.phase !== 'active' && trial.phase !== 'creating') return;
    if (obj['metadata']?.labels?.[TRIAL_LABEL] === undefined && obj['metadata']?.labels?.[STUDY_LABEL] === undefined) return;
    trial.seen = true;
    if (trial.phase === 'creating') {
      // The watch saw it before the create answered (or after a lost answer).
      trial.phase = 'active';
      this.reportStarted(trial);
    }
    const verdict = judgeJob(obj, trial.plan.conditions);
    if (verdict.state === 'running') {
      trial.log.follow();
      trial.log.poke();
      return;
    }
    if (verdict.state === 'succeeded') {
      void this.end(trial, { kind: 'succeeded' }, true);
      return;
    }
    const failed: TrialOutcome = { kind: 'failed', reason: verdict.reason || 'JobFailed', message: verdict.message || `the ${trial.resource.kind} failed` };
    void this.end(trial, failed, true, () => this.failureOf(trial, failed));
  }

  /** A failed job's outcome, with what its pod says of how it ended (an exit code, an OOM kill). */
  private async failureOf(trial: Trial, job: Extract<TrialOutcome, { kind: 'failed' }>): Promise<TrialOutcome> {
    try {
      const pods = await this.api.pods(trial.namespace, trial.plan.podSelector(trial.name));
      const problem = terminationProblem(pods, trial.plan.container);
      return problem ? { kind: 'failed', reason: problem.reason, message: `${problem.message}; ${job.message}` } : job;
    } catch {
      return job; // the job's own word, then
    }
  }

  /** The trial's pods do not run (yet): fail it when they never will, or after the pending time-out. */
  private notRunning(trialName: string, pods: readonly KubeObject[]): void {
    const trial = this.trials.get(trialName);
    if (!trial || trial.phase !== 'active') return;
    trial.activeSince ??= Date.now();
    const problem = pendingProblem(pods);
    const timeout = this.options.pendingTimeoutMs ?? 300_000;
    const waited = Date.now() - trial.activeSince;
    if (problem?.terminal) {
      void this.end(trial, { kind: 'failed', reason: problem.reason, message: problem.message }, true);
    } else if (waited >= timeout) {
      const why = problem ? `${problem.message}, for ${Math.round(waited / 1000)} s` : `no pod of the ${trial.resource.kind} ran within ${Math.round(waited / 1000)} s`;
      void this.end(trial, { kind: 'failed', reason: problem?.reason ?? 'PodPending', message: why }, true);
    }
  }

  /** The trial's pod can never give what the trial needs: it fails now, with what is wrong. */
  private podProblem(trialName: string, problem: PodProblem): void {
    const trial = this.trials.get(trialName);
    if (trial?.phase === 'active') void this.end(trial, { kind: 'failed', reason: problem.reason, message: problem.message }, true);
  }

  /** The object disappeared while the trial was active (deleted by someone else, a TTL…). */
  private async vanished(trial: Trial): Promise<void> {
    if (trial.phase !== 'active') return;
    await this.end(trial, { kind: 'failed', reason: 'JobDeleted', message: `the ${trial.resource.kind} ${trial.namespace}/${trial.name} was deleted before it finished` }, false);
  }

  private end(trial: Trial, given: TrialOutcome, deleteAfter: boolean, detail?: () => Promise<TrialOutcome>): Promise<void> {
    if (trial.ended) return trial.ended;
    trial.phase = 'ending';
    trial.ended = (async () => {
      let outcome = detail ? await detail() : given;
      await trial.log.finish();
      trial.dump?.end();
      // A job that succeeded before its pod was looked at: its log was unreadable all along.
      const problem = trial.log.problem;
      if (outcome.kind === 'succeeded' && problem) outcome = { kind: 'failed', reason: problem.reason, message: problem.message };
      await trial.file?.close(); // the file is complete when the trial is reported finished
      if (!this.alive) return; // detached meanwhile: the next runtime re-adopts and ends it
      this.untrack(trial);
      this.log(`${trial.name}: ${outcome.kind}${outcome.kind === 'failed' ? ` (${outcome.reason}: ${outcome.message})` : ''}`);
      this.options.listener.finished(trial.name, outcome);
      if (deleteAfter && !trial.retain) await this.deleteObject(trial, Infinity);
    })();
    const ended = trial.ended;
    this.ending.add(ended);
    const forget = () => void this.ending.delete(ended);
    ended.then(forget, forget);
    return ended;
  }

  /** Deletes a trial's object; true when it is gone. Retries while the runtime runs. */
  private async deleteObject(trial: Trial, maxAttempts: number): Promise<boolean> {
    const policy = this.options.propagationPolicy ?? 'Foreground';
    for (let attempt = 0; attempt < maxAttempts && (this.alive || attempt === 0); attempt++) {
      try {
        await this.api.delete(trial.resource, trial.namespace, trial.name, policy);
        this.log(`${trial.name}: deleted ${trial.resource.kind} ${trial.namespace}/${trial.name}`);
        return true;
      } catch (err) {
        if (statusOf(err) === 404) return true;
        if (!isRetryable(err)) {
          this.log(`${trial.name}: deleting the ${trial.resource.kind} failed: ${describeError(err)}`);
          return false;
        }
        this.log(`${trial.name}: deleting the ${trial.resource.kind} failed (${describeError(err)}); retrying`);
        await sleep(backoffMs(attempt));
      }
    }
    return false;
  }

  async stop(trialName: string, reason: string): Promise<void> {
    const trial = this.trials.get(trialName);
    if (!trial) return;
    if (trial.phase === 'ending' || trial.phase === 'done') {
      await trial.ended;
      return;
    }
    trial.stopReason = reason;
    trial.phase = 'ending';
    trial.ended = (async () => {
      trial.log.close();
      // A create still in flight deletes its object when it lands (afterCreate); one whose
      // answer was lost is deleted here.
      const gone = await this.deleteObject(trial, 5);
      if (!gone) void this.deleteObject(trial, Infinity);
      this.untrack(trial);
      this.options.listener.finished(trialName, { kind: 'stopped', reason });
    })();
    await trial.ended;
  }

  async recover(active: readonly LaunchRequest[]): Promise<Set<string>> {
    const adopted = new Set<string>();
    const groups = new Map<string, { namespace: string; plan: TrialPlan; requests: LaunchRequest[] }>();
    for (const req of active) {
      if (!req.template.trialSpec) continue;
      let plan: TrialPlan;
      try {
        plan = planFor(req.template);
      } catch {
        continue; // relaunched, and rejected there with the reason
      }
      const key = `${req.namespace}|${plan.resource.group}|${plan.resource.version}|${plan.resource.plural}`;
      const group = groups.get(key) ?? { namespace: req.namespace, plan, requests: [] };
      group.requests.push(req);
      groups.set(key, group);
    }
    for (const { namespace, plan, requests } of groups.values()) {
      const studies = new Set(requests.map((r) => r.studyName));
      let items: KubeObject[] = [];
      for (let attempt = 0; ; attempt++) {
        try {
          items = (await this.api.list(plan.resource, namespace, STUDY_LABEL)).items ?? [];
          break;
        } catch (err) {
          if (!isRetryable(err) || attempt >= 5) {
            this.log(`recover: listing ${plan.resource.plural} in ${namespace} failed (${describeError(err)}): relaunching instead`);
            break;
          }
          await sleep(backoffMs(attempt));
        }
      }
      const byName = new Map(items.map((o) => [o['metadata']?.name as string, o]));
      const active = new Set(requests.map((r) => r.trialName));
      for (const req of requests) {
        const obj = byName.get(req.trialName);
        if (!obj || this.trials.has(req.trialName)) continue;
        const trial = this.track(req, plan, 'active');
        trial.seen = true;
        this.reportStarted(trial);
        adopted.add(req.trialName);
        // Looked at after recover returns, so the scheduler has set up the trial's collector.
        setImmediate(() => this.observe(trial, obj));
      }
      // What a dead predecessor left behind: objects of these studies that are no longer active.
      for (const obj of items) {
        const name = obj['metadata']?.name as string;
        const study = obj['metadata']?.labels?.[STUDY_LABEL] as string | undefined;
        if (active.has(name) || !study || !studies.has(study)) continue;
        const template = requests.find((r) => r.studyName === study)?.template;
        if (template?.retain) continue;
        this.log(`recover: deleting the leftover ${plan.resource.kind} ${namespace}/${name}`);
        void this.api.delete(plan.resource, namespace, name, this.options.propagationPolicy ?? 'Foreground').catch(() => undefined);
      }
    }
    return adopted;
  }

  async shutdown(reason: string): Promise<void> {
    if (this.options.onShutdown === 'delete') {
      await Promise.all([...this.trials.keys()].map((name) => this.stop(name, reason)));
    }
    this.alive = false;
    for (const w of this.watchers.values()) w.stop();
    this.watchers.clear();
    for (const trial of this.trials.values()) trial.log.close();
    // Trials being ended finish their final log read; the rest stay for the next runtime.
    // The last trial's delete is issued after it was reported finished: a runner that stops
    // then (its study ended) must not exit before the delete is sent.
    await Promise.all([...this.trials.values()].map((t) => t.ended).concat([...this.ending]));
    this.trials.clear();
  }

  get activeCount(): number {
    return this.trials.size;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Who the folders Sibyl makes on the volume belong to: as root, the owner of the volume's root
 * (the user the trials run as, who was given the volume, as a hostPath or NFS export is given),
 * since a pod's fsGroup does not reach such volumes; otherwise Sibyl's own user, as made.
 */
async function volumeOwner(volume: CheckpointVolume): Promise<Owner | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const { uid, gid } = await stat(volume.dir);
  return uid === 0 && gid === 0 ? undefined : { uid, gid };
}
