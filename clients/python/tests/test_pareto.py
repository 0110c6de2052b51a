"""A multi-objective study over ask/tell: every trial's objective_values, and the Pareto front
the server returns is the non-dominated set of the completed trials."""
from __future__ import annotations

import unittest

from tests.support import ServerTestCase

STUDY = """
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: pareto-py}
spec:
  objective:
    objectives:
      - {type: minimize, objectiveMetricName: f1}
      - {type: minimize, objectiveMetricName: f2}
  algorithm: {algorithmName: random, algorithmSettings: [{name: random_state, value: "3"}]}
  parallelTrialCount: 1
  maxTrialCount: 12
  parameters:
    - {name: x, parameterType: double, feasibleSpace: {min: "0", max: "1"}}
    - {name: y, parameterType: double, feasibleSpace: {min: "0", max: "1"}}
"""


def objectives(x: float, y: float) -> tuple:
    return (x, (1 + y) * (1 - x ** 0.5))


class ParetoFront(ServerTestCase):
    def test_front_is_the_non_dominated_set(self) -> None:
        study = self.client.create_study(STUDY, runtime="external")
        while (trial := study.ask()) is not None:
            f1, f2 = objectives(float(trial.params["x"]), float(trial.params["y"]))
            study.tell(trial, {"f1": f1, "f2": f2})
        trials = study.trials()
        self.assertEqual(len(trials), 12)
        for t in trials:
            self.assertEqual(t.objective_values, list(objectives(float(t.params["x"]), float(t.params["y"]))))

        def dominates(a: list, b: list) -> bool:
            return all(p <= q for p, q in zip(a, b)) and any(p < q for p, q in zip(a, b))

        expected = [t.name for t in trials if not any(dominates(u.objective_values, t.objective_values) for u in trials)]
        front = study.pareto_front()
        self.assertEqual([t.name for t in front], expected)
        self.assertGreaterEqual(len(front), 2)


if __name__ == "__main__":
    unittest.main()
