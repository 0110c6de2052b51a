// Early stopping as each observation arrives. Keeps every study's objective curves in memory
// (read once from the store, then extended with what the scheduler and the service write),
// asks the study's policy about each active trial that reported, and returns its decision.
// Policies are cheap arithmetic over the curves (O(points of completed trials) per decision),
// so they run here rather than in the worker pool: a round trip there would cost more. A curve
// grows in place as reports come (in step order, as a trial reports, they are appended), so a
// trial reporting a million steps costs each batch its own points, not a sort of all of them.
import { getPolicy } from '../../suggestion-algorithms/early-stopping/registry.js';
import type { Curve, CurveView, StopDecision } from '../../suggestion-algorithms/early-stopping/model.js';
import { isActiveTrialState, type TrialState } from '../model/trial.js';
import { policyInput } from '../spec/algorithm.js';
import type { ObservationInput, Store, StudyRecord, TrialRecord } from '../store/store.js';
import { StudyCache } from './study-cache.js';

interface TrialCurve {
  state: TrialState;
  /** Reports in step order, one value per step (the last reported at it). */
  readonly steps: number[];
  readonly values: number[];
  /**
   * What a policy sees of them: a new object whenever they change, so the per-curve caches of
   * the policies' helpers (keyed by the object) are never stale.
   */
  curve: Curve;
  /** The highest step judged so far: a decision already taken is never taken again. */
  judgedThrough: number;
  /** The steps up to here are being read again after a restart (judged before it). */
  readAgainThrough: number;
}

export class EarlyStopper {
  /** Per study with a policy: each trial's curve, by name. */
  private readonly studies: StudyCache<Map<string, TrialCurve>>;
  /** Judged steps of trials restarted before their study's curves were first read. */
  private readonly pendingJudged = new Map<string, number>();

  constructor(store: Store) {
    this.studies = new StudyCache(async (studyId) => {
      const study = await store.getStudy(studyId);
      const curves = new Map<string, TrialCurve>();
      for (const row of study ? await store.curveRows(studyId, study.spec.objective.objectiveMetricName) : []) {
        const entry = this.entry(curves, row.name, row.state);
        setPoint(entry, row.step, row.value);
        // What is stored was judged when it was written, by this process before a restart or
        // forget, or by another replica: judging it again against today's trials could reverse it.
        entry.judgedThrough = Math.max(entry.judgedThrough, row.step);
      }
      return curves;
    });
  }

  /**
   * Observations of an active trial were written: the policy's decision for it, now. Undefined
   * when the study has no policy or the trial is being stopped already.
   */
  async observed(study: StudyRecord, trial: TrialRecord, rows: readonly ObservationInput[]): Promise<Extract<StopDecision, { stop: true }> | undefined> {
    const input = policyInput(study.spec);
    if (!input || !isActiveTrialState(trial.state) || trial.earlyStop) return undefined;
    const metric = study.spec.objective.objectiveMetricName;
    const steps = rows.filter((r) => r.metric === metric).map((r) => r.step);
    if (steps.length === 0) return undefined;
    const warm = this.studies.has(study.id);
    const curves = await this.studies.get(study.id);
    const own = this.entry(curves, trial.name, trial.state);
    if (!warm) {
      // Read just now, these rows included: only the steps stored before them were judged.
      const first = steps.reduce((a, b) => Math.min(a, b));
      own.judgedThrough = own.readAgainThrough;
      const before = lowerBound(own.steps, first);
      if (before > 0) own.judgedThrough = Math.max(own.judgedThrough, own.steps[before - 1]!);
    }
    for (const r of rows) if (r.metric === metric) setPoint(own, r.step, r.value);
    const reached = steps.reduce((a, b) => Math.max(a, b));
    const decision = getPolicy(study.spec.earlyStopping!.algorithmName)!.decide({
      ...input,
      trials: this.views(curves),
      trial: trial.name,
      judgedThrough: own.judgedThrough,
    });
    own.judgedThrough = Math.max(own.judgedThrough, reached);
    return decision.stop ? decision : undefined;
  }

  /** A trial changed state; one put back to CREATED starts its curve afresh (its observations went). */
  update(trial: TrialRecord): void {
    this.studies.change(trial.studyId, (curves) => {
      const entry = this.entry(curves, trial.name, trial.state);
      entry.state = trial.state;
      if (trial.state === 'CREATED') clearPoints(entry);
    });
  }

  /**
   * A trial's output is read again from its start (re-adopted or relaunched after a restart):
   * the steps it had reached were judged already and are not judged again.
   */
  restart(trial: TrialRecord, judgedThrough: number): void {
    const applied = this.studies.change(trial.studyId, (curves) => {
      const entry = this.entry(curves, trial.name, trial.state);
      clearPoints(entry);
      entry.judgedThrough = Math.max(entry.judgedThrough, judgedThrough);
      entry.readAgainThrough = Math.max(entry.readAgainThrough, judgedThrough);
    });
    if (!applied) this.pendingJudged.set(trial.name, judgedThrough);
  }

  /** The study's curves are read again when next needed; what is being read again after a restart stays known. */
  forget(studyId: number): void {
    this.studies.change(studyId, (curves) => {
      for (const [name, entry] of curves) if (entry.readAgainThrough > 0) this.pendingJudged.set(name, entry.readAgainThrough);
    });
    this.studies.forget(studyId);
  }

  private entry(curves: Map<string, TrialCurve>, name: string, state: TrialState): TrialCurve {
    let entry = curves.get(name);
    if (!entry) {
      const judged = this.pendingJudged.get(name) ?? 0;
      this.pendingJudged.delete(name);
      curves.set(name, (entry = { state, steps: [], values: [], curve: EMPTY, judgedThrough: judged, readAgainThrough: judged }));
    }
    return entry;
  }

  private views(curves: Map<string, TrialCurve>): CurveView[] {
    const views: CurveView[] = [];
    for (const [name, entry] of curves) {
      if (entry.steps.length > 0) views.push({ name, state: entry.state, curve: entry.curve });
    }
    return views;
  }
}

const EMPTY: Curve = { steps: [], values: [] };

/** The index of the first step ≥ `step`. */
function lowerBound(steps: readonly number[], step: number): number {
  let lo = 0;
  let hi = steps.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (steps[mid]! < step) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Records a report: appended after the last step, written over one at the same step, else inserted in order. */
function setPoint(entry: TrialCurve, step: number, value: number): void {
  const { steps, values } = entry;
  const n = steps.length;
  if (n === 0 || step > steps[n - 1]!) {
    steps.push(step);
    values.push(value);
  } else {
    const i = lowerBound(steps, step);
    if (steps[i] === step) values[i] = value;
    else {
      steps.splice(i, 0, step);
      values.splice(i, 0, value);
    }
  }
  entry.curve = { steps, values };
}

function clearPoints(entry: TrialCurve): void {
  entry.steps.length = 0;
  entry.values.length = 0;
  entry.curve = EMPTY;
}
