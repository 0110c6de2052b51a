"""Outcome constraints through the Python client: a trial's feasibility and violation as the
server recorded them, and the best trial a feasible one."""
from __future__ import annotations

import unittest

from tests.support import ServerTestCase

STUDY = """
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: bound-py}
spec:
  objective:
    type: minimize
    objectiveMetricName: loss
    additionalMetricNames: [latency]
    constraints: [{metricName: latency, max: 20}]
  algorithm: {algorithmName: random}
  parallelTrialCount: 1
  maxTrialCount: 3
  parameters:
    - {name: x, parameterType: double, feasibleSpace: {min: "0", max: "1"}}
"""


class OutcomeConstraints(ServerTestCase):
    def test_feasibility_and_best(self) -> None:
        study = self.client.create_study(STUDY, runtime="external")
        told = [{"loss": 2.0, "latency": 10.0}, {"loss": 1.0, "latency": 32.5}, {"loss": 0.5}]
        trials = []
        for metrics in told:
            trial = study.ask()
            self.assertIsNotNone(trial)
            trials.append(study.tell(trial, metrics))
        self.assertEqual([(t.feasible, t.violation) for t in trials], [(True, 0), (False, 12.5), (False, None)])
        best = study.best_trial()
        self.assertIsNotNone(best)
        self.assertEqual(best.name, trials[0].name)
        self.assertEqual(best.objective_value, 2.0)


if __name__ == "__main__":
    unittest.main()
