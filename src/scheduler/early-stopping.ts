// Early stopping as each observation arrives. Keeps every study's objective curves in memory
// (read once from the store, then extended with what the scheduler and the service write),
// asks the study's policy about each active trial that reported, and returns its decision.
// Policies are cheap arithmetic over the curves (O(points of completed trials) per decision),
// so they run here rather than in the worker pool: a round trip there would cost more.
import { getPolicy } from '../../suggestion-algorithms/early-stopping/registry.js';
import type { Curve, CurveView, StopDecision } from '../../suggestion-algorithms/early-stopping/model.js';
import { isActiveTrialState, type TrialState } from '../model/trial.js';
import { policyInput } from '../spec/algorithm.js';
import type { ObservationInput, Store, StudyRecord, TrialRecord } from '../store/store.js';
import { StudyCache } from './study-cache.js';

interface TrialCurve {
  state: TrialState;
  /** Step → the last value reported at it. */
  readonly points: Map<number, number>;
  /** The points as a sorted curve, rebuilt when they change. */
  curve: Curve | undefined;
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
        entry.points.set(row.step, row.value);
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
      for (const step of own.points.keys()) if (step < first) own.judgedThrough = Math.max(own.judgedThrough, step);
    }
    for (const r of rows) if (r.metric === metric) own.points.set(r.step, r.value);
    const reached = steps.reduce((a, b) => Math.max(a, b));
    own.curve = undefined;
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
      if (trial.state === 'CREATED') {
        entry.points.clear();
        entry.curve = undefined;
      }
    });
  }

  /**
   * A trial's output is read again from its start (re-adopted or relaunched after a restart):
   * the steps it had reached were judged already and are not judged again.
   */
  restart(trial: TrialRecord, judgedThrough: number): void {
    const applied = this.studies.change(trial.studyId, (curves) => {
      const entry = this.entry(curves, trial.name, trial.state);
      entry.points.clear();
      entry.curve = undefined;
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
      curves.set(name, (entry = { state, points: new Map(), curve: undefined, judgedThrough: judged, readAgainThrough: judged }));
    }
    return entry;
  }

  private views(curves: Map<string, TrialCurve>): CurveView[] {
    const views: CurveView[] = [];
    for (const [name, entry] of curves) {
      if (entry.points.size === 0) continue;
      entry.curve ??= toCurve(entry.points);
      views.push({ name, state: entry.state, curve: entry.curve });
    }
    return views;
  }
}

function toCurve(points: Map<number, number>): Curve {
  const steps = [...points.keys()].sort((a, b) => a - b);
  return { steps, values: steps.map((s) => points.get(s)!) };
}
