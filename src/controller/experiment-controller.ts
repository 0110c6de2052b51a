// The in-cluster Sibyl as a controller of Experiment objects: `kubectl apply` creates the study,
// the object's `status` mirrors the store (the source of truth), `kubectl delete` stops the
// study's trials and deletes it (a finalizer holds the object until then), and edits of the
// three budgets Katib lets users change reach the study. Everything goes through the service
// layer, as for every other adapter: the same validation, the same field-named errors, here
// reported as a status condition and an Event instead of an HTTP 400.
//
// Who acts on which object (two controllers must never fight over one):
// - the group is chosen by configuration: `kubeflow.org` (Katib's; for clusters without Katib,
//   with deploy/crds/experiment.yaml) or `sibyl.dev` (Sibyl's own copy of the kind, for clusters
//   where Katib runs). On `kubeflow.org`, the controller first asks the API server whether
//   Katib's Suggestion kind is served; if it is, Katib's controller owns those Experiments and
//   Sibyl refuses to start watching them (it says so in its log);
// - a study is adopted only by the object it was made from: the store records the object's uid
//   (the study's owner), so a study of the same name made through the API, or by an earlier
//   object of that name, is never taken over.
//
// Reconciles are serialised per object and coalesced: an event that arrives while one runs
// makes it run once more afterwards. Writes that would change nothing are skipped, so the
// controller's own status writes (which come back as MODIFIED events) end in a no-op.
import type { KubeConfig } from '@kubernetes/client-node';
import { describeError, KubeApi, statusOf } from '../runtimes/kubernetes/api.js';
import type { KubeObject } from '../runtimes/kubernetes/render.js';
import { labelValue } from '../runtimes/kubernetes/render.js';
import { resourceOf, STUDY_LABEL, type Resource } from '../runtimes/kubernetes/resources.js';
import { ResourceWatcher } from '../runtimes/kubernetes/watch.js';
import { ServiceError } from '../service/errors.js';
import type { StudyShape } from '../service/shapes.js';
import type { StudyService } from '../service/study-service.js';
import { parseStudyDocument } from '../spec/parse.js';
import { EventRecorder } from './kube-events.js';
import { TrialMirror } from './trial-mirror.js';
import { metricNamesOf } from '../spec/types.js';
import {
  experimentStatus,
  invalidStatus,
  sameStatus,
  trialTransitions,
  TRIAL_EVENT_REASON,
  type ExperimentCondition,
  type ExperimentStatus,
} from './experiment-status.js';

export const EXPERIMENT_GROUPS = ['kubeflow.org', 'sibyl.dev'] as const;
export type ExperimentGroup = (typeof EXPERIMENT_GROUPS)[number];

/** Held on every Experiment Sibyl acts on, until its study's trials are stopped and the study deleted. */
export const FINALIZER = 'sibyl.dev/study';

/** How long a deleted Experiment waits for its trial objects to go. */
const TRIAL_OBJECTS_WAIT_MS = 120_000;

export const experimentResource = (group: ExperimentGroup): Resource => ({ group, version: 'v1beta1', plural: 'experiments', kind: 'Experiment' });

export interface ExperimentControllerOptions {
  readonly kubeConfig: KubeConfig;
  readonly service: StudyService;
  readonly namespaces: readonly string[];
  readonly group: ExperimentGroup;
  /** This process, in the Events it writes. */
  readonly instance: string;
  readonly log?: (message: string) => void;
  /** Study changes are mirrored at most this often per Experiment (default 500 ms). */
  readonly statusIntervalMs?: number;
}

interface Tracked {
  object: KubeObject;
  running?: Promise<void>;
  again: boolean;
  timer?: NodeJS.Timeout;
  unwatch?: () => void;
  /** The generation whose non-budget edit was already reported as ignored. */
  reportedEditOf?: number;
  /** The budget refusal already reported (not repeated on every reconcile). */
  reportedBudgetError?: string;
  /** The resourceVersions the watch brought while a write of ours was in flight. */
  deliveredDuringWrite?: Set<string>;
  /**
   * The resourceVersion of a write answer adopted before the watch brought it back. The watch
   * delivers in commit order, so what it brings before that echo is older than `object`.
   */
  awaitingEcho?: string;
}

export class ExperimentController {
  private readonly api: KubeApi;
  private readonly events: EventRecorder;
  private readonly trialObjects: TrialMirror;
  private readonly resource: Resource;
  private readonly log: (message: string) => void;
  private readonly tracked = new Map<string, Tracked>();
  private watchers: ResourceWatcher[] = [];
  private stopped = false;

  constructor(private readonly o: ExperimentControllerOptions) {
    this.api = new KubeApi(o.kubeConfig);
    this.log = o.log ?? (() => {});
    this.events = new EventRecorder(this.api, o.instance, this.log);
    this.trialObjects = new TrialMirror(this.api, this.log);
    this.resource = experimentResource(o.group);
  }

  /** Starts watching (returns once each namespace was listed, or at once when refused). */
  async start(): Promise<void> {
    if (this.o.group === 'kubeflow.org' && await this.katibServes()) {
      this.log('experiments: Katib\'s controller runs on this cluster (kubeflow.org/v1beta1 Suggestion is served), so Sibyl leaves kubeflow.org Experiments to it; use SIBYL_EXPERIMENT_GROUP=sibyl.dev and deploy/crds/experiment-sibyl.yaml');
      return;
    }
    this.watchers = this.o.namespaces.map((namespace) => new ResourceWatcher({
      api: this.api,
      kubeConfig: this.o.kubeConfig,
      resource: this.resource,
      namespace,
      labelSelector: '',
      log: (m) => this.log(`experiments: ${m}`),
      handler: {
        listed: (objects) => this.listed(namespace, objects),
        event: (type, object) => (type === 'DELETED' ? this.forget(keyOf(object)) : this.seen(object)),
      },
    }));
    for (const w of this.watchers) w.start();
    this.log(`experiments: watching ${this.resource.plural}.${this.o.group} in ${this.o.namespaces.join(', ')}`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.watchers) w.stop();
    for (const t of this.tracked.values()) {
      clearTimeout(t.timer);
      t.unwatch?.();
    }
    await Promise.all([...this.tracked.values()].map((t) => t.running));
    await this.events.flush();
    this.tracked.clear();
  }

  private async katibServes(): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.api.serves('kubeflow.org/v1beta1', 'Suggestion');
      } catch (err) {
        // Not knowing is not a yes: ask again rather than risk acting beside Katib.
        this.log(`experiments: cannot tell whether Katib runs here (${describeError(err)}); asking again`);
        await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** attempt)));
        if (this.stopped) return true;
      }
    }
  }

  // ── what the watch says ──────────────────────────────────────────────────

  private listed(namespace: string, objects: readonly KubeObject[]): void {
    const present = new Set(objects.map(keyOf));
    for (const key of [...this.tracked.keys()]) if (key.startsWith(`${namespace}/`) && !present.has(key)) this.forget(key);
    for (const o of objects) this.seen(o, true);
  }

  /** `listed`: from a (re)list, a snapshot of the present that may have skipped echoes. */
  private seen(object: KubeObject, listed = false): void {
    const key = keyOf(object);
    const t = this.tracked.get(key);
    const version = object['metadata'].resourceVersion ?? '';
    if (!t) this.tracked.set(key, { object, again: false });
    else {
      t.deliveredDuringWrite?.add(version);
      if (listed || t.awaitingEcho === undefined || t.awaitingEcho === version) {
        t.object = object;
        t.awaitingEcho = undefined;
      }
    }
    this.schedule(key);
  }

  private forget(key: string): void {
    const t = this.tracked.get(key);
    if (!t) return;
    clearTimeout(t.timer);
    t.unwatch?.();
    this.tracked.delete(key);
  }

  /** Runs a reconcile of `key` now, or once more after the one in progress. */
  private schedule(key: string): void {
    const t = this.tracked.get(key);
    if (!t || this.stopped) return;
    if (t.running) {
      t.again = true;
      return;
    }
    t.running = (async () => {
      try {
        do {
          t.again = false;
          await this.reconcile(t);
        } while (t.again && !this.stopped && this.tracked.get(key) === t);
      } catch (err) {
        this.log(`experiments: ${key}: ${describeError(err)}; trying again`);
        clearTimeout(t.timer);
        t.timer = setTimeout(() => this.schedule(key), 2_000);
      } finally {
        t.running = undefined;
      }
    })();
  }

  /** A study change: mirrored into the object at most every statusIntervalMs. */
  private studyChanged(key: string): void {
    const t = this.tracked.get(key);
    if (!t || t.timer) return;
    t.timer = setTimeout(() => {
      t.timer = undefined;
      this.schedule(key);
    }, this.o.statusIntervalMs ?? 500);
  }

  // ── one reconcile ────────────────────────────────────────────────────────

  private async reconcile(t: Tracked): Promise<void> {
    const object = t.object;
    const md = object['metadata'];
    const name: string = md.name;
    const owner = ownerOf(object);
    const found = await this.o.service.findStudy(name);
    const ours = found?.owner === owner ? found.study : undefined;

    if (md.deletionTimestamp) {
      if (!(md.finalizers ?? []).includes(FINALIZER)) return;
      t.unwatch?.();
      t.unwatch = undefined;
      if (ours) {
        await this.o.service.deleteStudy(name);
        await this.trialObjects.remove(md.namespace, name);
        const left = await this.trialObjectsGone(ours);
        this.events.record(object, left === 0 ? 'Normal' : 'Warning', 'ExperimentDeleted', left === 0
          ? `stopped the study's trials, deleted their objects and the study "${name}"`
          : `stopped the study's trials and deleted the study "${name}"; ${left} trial object(s) were still being deleted after ${TRIAL_OBJECTS_WAIT_MS / 1000} s`);
      }
      await this.setFinalizers(object, (md.finalizers as string[]).filter((f) => f !== FINALIZER));
      return;
    }
    if (found && !ours) {
      await this.refuse(t, 'ExperimentNameTaken', `a study named "${name}" exists in Sibyl already (${found.owner ? `made from ${found.owner}` : 'created through the API'}): rename this Experiment`);
      return;
    }
    if (!(md.finalizers ?? []).includes(FINALIZER)) {
      // Before the study exists, so that a delete can never skip its cleanup.
      await this.write(t, (o) => this.setFinalizers(o, [...(md.finalizers ?? []), FINALIZER]));
    }

    let study = ours;
    if (!found) {
      try {
        study = await this.o.service.createOwnedStudy(studyDocument(object), owner);
        this.events.record(object, 'Normal', 'StudyCreated', `study "${name}" created (${study.algorithm}, ${study.runtime} runtime)`);
      } catch (err) {
        if (!(err instanceof ServiceError) || err.code === 'INTERNAL') throw err;
        await this.refuse(t, err.code === 'ALREADY_EXISTS' ? 'ExperimentNameTaken' : 'ExperimentInvalid', messageOf(err));
        return;
      }
    }
    if (!study) return;
    const key = keyOf(object);
    t.unwatch ??= (await this.o.service.watch(name, () => this.studyChanged(key), () => this.studyChanged(key))).unsubscribe;

    study = await this.applyEdits(t, study) ?? study;
    await this.mirror(t, study);
  }

  /** Budgets edited on the object go to the study; any other edit is reported and ignored (as Katib's webhook refuses it). */
  private async applyEdits(t: Tracked, study: StudyShape): Promise<StudyShape | undefined> {
    const spec = t.object['spec'] ?? {};
    const generation: number = t.object['metadata'].generation ?? 0;
    const changes: Record<string, unknown> = {};
    for (const field of ['parallelTrialCount', 'maxTrialCount', 'maxFailedTrialCount'] as const) {
      if (spec[field] !== undefined && spec[field] !== null && spec[field] !== study[field]) changes[field] = spec[field];
    }
    let updated: StudyShape | undefined;
    if (Object.keys(changes).length > 0) {
      try {
        updated = await this.o.service.updateBudget(study.name, changes);
        t.reportedBudgetError = undefined;
        this.events.record(t.object, 'Normal', 'BudgetChanged', Object.entries(changes).map(([k, v]) => `${k} ${String(study[k as keyof StudyShape])} → ${String(v)}`).join(', '));
      } catch (err) {
        if (!(err instanceof ServiceError)) throw err;
        const message = `budget change refused: ${messageOf(err)}`;
        if (t.reportedBudgetError !== message) this.events.record(t.object, 'Warning', 'BudgetRefused', message);
        t.reportedBudgetError = message;
      }
    }
    if (t.reportedEditOf !== generation && editedBeyondBudgets(t.object, updated ?? study)) {
      t.reportedEditOf = generation;
      this.events.record(t.object, 'Warning', 'SpecChangeIgnored', 'only parallelTrialCount, maxTrialCount and maxFailedTrialCount can change after creation (as in Katib); the study keeps the spec it was created with');
    }
    return updated;
  }

  private async mirror(t: Tracked, study: StudyShape): Promise<void> {
    const previous = (t.object['status'] ?? {}) as Partial<ExperimentStatus>;
    const trials = await this.o.service.allTrials(study.name);
    await this.trialObjects.sync(t.object, study.name, trials, metricNamesOf(study.spec.objective));
    const next = experimentStatus(study, trials, previous.conditions ?? [], new Date().toISOString());
    if (sameStatus(withoutNulls(previous), next)) return;
    const patch = { status: { ...next, completionTime: next.completionTime ?? null, bestObjectiveValue: next.bestObjectiveValue ?? null } };
    await this.write(t, (o) => this.api.mergePatch(this.resource, o['metadata'].namespace, o['metadata'].name, patch, 'status'));
    this.conditionEvents(t.object, previous.conditions ?? [], next.conditions);
    for (const { trial, list } of trialTransitions(previous, next)) {
      const shown = await this.trialLine(study.name, trial);
      this.events.record(t.object, list === 'failedTrialList' || list === 'metricsUnavailableTrialList' ? 'Warning' : 'Normal', TRIAL_EVENT_REASON[list]!, shown);
    }
  }

  private async trialLine(studyName: string, trialName: string): Promise<string> {
    try {
      const trial = await this.o.service.getTrial(trialName);
      const assignment = Object.entries(trial.assignment).map(([k, v]) => `${k}=${v}`).join(' ');
      const value = trial.objectiveValue === null ? '' : `, ${trial.metrics[0]?.name ?? 'objective'}=${trial.objectiveValue}`;
      const why = trial.reason && trial.state !== 'RUNNING' && trial.state !== 'CREATED' ? ` (${trial.reason}${trial.message ? `: ${trial.message}` : ''})` : '';
      return `trial ${trialName}: ${trial.state}${why} [${assignment}]${value}`;
    } catch {
      return `trial ${trialName} of ${studyName}`;
    }
  }

  private conditionEvents(object: KubeObject, before: readonly ExperimentCondition[], after: readonly ExperimentCondition[]): void {
    for (const c of after) {
      const old = before.find((b) => b.type === c.type);
      if (c.status !== 'True' || (old && old.status === 'True' && old.reason === c.reason)) continue;
      this.events.record(object, c.type === 'Failed' ? 'Warning' : 'Normal', c.reason, c.message);
    }
  }

  /** The object cannot become a study: a Failed condition and one Warning Event saying why. */
  private async refuse(t: Tracked, reason: string, message: string): Promise<void> {
    const previous: readonly ExperimentCondition[] = t.object['status']?.conditions ?? [];
    const status = invalidStatus(previous, reason, message, new Date().toISOString());
    if (sameStatus({ conditions: previous }, status)) return;
    await this.write(t, (o) => this.api.mergePatch(this.resource, o['metadata'].namespace, o['metadata'].name, { status }, 'status'));
    this.events.record(t.object, 'Warning', reason, message);
    this.log(`experiments: ${keyOf(t.object)}: ${reason}: ${message}`);
  }

  /**
   * The study's trial objects are deleted with foreground propagation: they go once their pods
   * have. The finalizer is held until then (bounded), so that the Experiment disappears last,
   * as with Katib's owner references. Returns how many were left.
   */
  private async trialObjectsGone(study: StudyShape): Promise<number> {
    const trialSpec = study.spec.trialTemplate.trialSpec;
    if (!trialSpec) return 0;
    const resource = resourceOf(String(trialSpec['apiVersion']), String(trialSpec['kind']));
    const deadline = Date.now() + TRIAL_OBJECTS_WAIT_MS;
    for (;;) {
      let left: number;
      try {
        left = (await this.api.list(resource, study.spec.namespace, `${STUDY_LABEL}=${labelValue(study.name)}`)).items.length;
      } catch (err) {
        if (statusOf(err) === 404) return 0;
        this.log(`experiments: listing ${resource.plural} of ${study.name}: ${describeError(err)}`);
        left = -1;
      }
      if (left === 0 || Date.now() > deadline || this.stopped) return Math.max(left, 0);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /**
   * A write to the object, whose answer becomes the tracked object unless the watch already
   * brought the write back while it was in flight: then what the watch holds is the write or a
   * later edit (a user's, which the reconcile it scheduled reads), and adopting the answer would
   * put the older spec back and lose the edit. Otherwise everything the watch brought was older
   * than the write, and so is what it brings until the write's echo (see `seen`): keeping those
   * would undo the write and repeat it, Events and all.
   */
  private async write(t: Tracked, write: (object: KubeObject) => Promise<KubeObject>): Promise<void> {
    const before = t.object['metadata'].resourceVersion;
    const delivered = new Set<string>();
    t.deliveredDuringWrite = delivered;
    let written: KubeObject;
    try {
      written = await write(t.object);
    } finally {
      t.deliveredDuringWrite = undefined;
    }
    const version = written['metadata'].resourceVersion ?? '';
    if (delivered.has(version)) return;
    t.object = written;
    // A write that changed nothing gets no new version and no echo.
    if (version !== before) t.awaitingEcho = version;
  }

  /** The finalizers written with the object's resourceVersion: a concurrent edit makes it a 409, and the next event retries. */
  private async setFinalizers(object: KubeObject, finalizers: string[]): Promise<KubeObject> {
    const md = object['metadata'];
    try {
      return await this.api.mergePatch(this.resource, md.namespace, md.name, { metadata: { finalizers, resourceVersion: md.resourceVersion } });
    } catch (err) {
      if (statusOf(err) === 404) return object; // already gone
      throw err;
    }
  }
}

const keyOf = (o: KubeObject) => `${o['metadata']?.namespace}/${o['metadata']?.name}`;

/** The owner recorded with the study: the object's identity, uid included. */
export const ownerOf = (o: KubeObject) => `${o['apiVersion']} Experiment ${keyOf(o)} ${o['metadata']?.uid}`;

/** What the spec parser reads: Katib's document, whichever group the object is in, without the server's metadata. */
function studyDocument(o: KubeObject): unknown {
  return { apiVersion: 'kubeflow.org/v1beta1', kind: 'Experiment', metadata: { name: o['metadata'].name, namespace: o['metadata'].namespace }, spec: o['spec'] };
}

/** The service prefixes the field with the document's name (`spec`): the object's own path is wanted. */
function messageOf(err: ServiceError): string {
  const field = err.field?.replace(/^spec\.(?=spec\b|metadata\b|apiVersion\b|kind\b)/, '');
  return field ? `${field}: ${err.reason}` : err.reason;
}

function editedBeyondBudgets(object: KubeObject, study: StudyShape): boolean {
  let spec;
  try {
    spec = parseStudyDocument(studyDocument(object));
  } catch {
    return true;
  }
  const budgets = { parallelTrialCount: 0, maxTrialCount: 0, maxFailedTrialCount: 0 };
  return JSON.stringify({ ...spec, ...budgets }) !== JSON.stringify({ ...study.spec, ...budgets });
}

/** A merge patch deletes with null; the object read back has no such keys. */
function withoutNulls(status: Partial<ExperimentStatus>): Partial<ExperimentStatus> {
  return Object.fromEntries(Object.entries(status).filter(([, v]) => v !== null)) as Partial<ExperimentStatus>;
}
