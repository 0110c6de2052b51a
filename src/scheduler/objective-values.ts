// A completing trial's value per objective, each by its metric's strategy (min, max, latest):
// one for a Katib study, one per objective for a multi-objective one.
import { objectivesOf, type StudySpec } from '../spec/types.js';
import type { Store } from '../store/store.js';

export interface ObjectiveReading {
  /** What the transition records: the first objective's value, and every objective's when all came (multi-objective). */
  readonly change: { readonly objectiveValue?: number; readonly objectiveValues?: readonly number[] };
  /** Objective metrics the trial never reported. */
  readonly missing: readonly string[];
}

export async function readObjectiveValues(store: Store, spec: StudySpec, trialId: number): Promise<ObjectiveReading> {
  const metrics = objectivesOf(spec.objective).map((o) => o.objectiveMetricName);
  const values = await Promise.all(metrics.map((metric) => {
    const strategy = spec.objective.metricStrategies.find((s) => s.name === metric)?.value ?? 'latest';
    return store.strategyValue(trialId, metric, strategy);
  }));
  const missing = metrics.filter((_, i) => values[i] === undefined);
  const first = values[0];
  return {
    change: {
      ...(first === undefined ? {} : { objectiveValue: first }),
      ...(spec.objective.objectives && missing.length === 0 ? { objectiveValues: values as number[] } : {}),
    },
    missing,
  };
}
