// The study spec the store tests write (its contents do not matter to the store, only its shape).
import type { StudySpec } from '../../src/spec/types.js';

export function spec(name: string, type: 'minimize' | 'maximize' = 'minimize'): StudySpec {
  return {
    name,
    namespace: 'default',
    parameters: [{ name: 'lr', parameterType: 'double', min: 0.001, max: 0.1, distribution: 'uniform' }],
    objective: {
      type,
      objectiveMetricName: 'loss',
      additionalMetricNames: ['accuracy'],
      metricStrategies: [
        { name: 'loss', value: 'min' },
        { name: 'accuracy', value: 'max' },
      ],
    },
    algorithm: { algorithmName: 'random', algorithmSettings: [] },
    parallelTrialCount: 2,
    maxTrialCount: 10,
    trialTemplate: { trialParameters: [{ name: 'lr', reference: 'lr' }], retain: false, command: ['true'] },
    metricsCollector: { kind: 'StdOut', format: 'TEXT', metricsFormat: [] },
  };
}
