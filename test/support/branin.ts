// A Branin study for ask/tell clients, and the evaluation they run.
import { branin } from '../../bench/functions.js';

export function braninStudy(name: string, algorithm = 'bayesianoptimization', maxTrialCount = 30): string {
  return `
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: ${name}}
spec:
  objective: {type: minimize, objectiveMetricName: f}
  algorithm:
    algorithmName: ${algorithm}
    algorithmSettings: [{name: random_state, value: "3"}]
  parallelTrialCount: 1
  maxTrialCount: ${maxTrialCount}
  parameters:
    - {name: x1, parameterType: double, feasibleSpace: {min: "-5", max: "10"}}
    - {name: x2, parameterType: double, feasibleSpace: {min: "0", max: "15"}}
`;
}

export const evaluateBranin = (assignment: Record<string, number | string>) =>
  branin.f([Number(assignment['x1']), Number(assignment['x2'])]);

export const BRANIN_OPTIMUM = branin.optimum;
