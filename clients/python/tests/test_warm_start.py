"""Enqueued assignments and parameter importance through the Python client, against a real sibyl serve."""
from __future__ import annotations

import unittest

from tests.support import ServerTestCase, experiment
from sibyl_client import InvalidArgument


class WarmStartCalls(ServerTestCase):
    def test_enqueued_assignments_run_first_in_order(self) -> None:
        self.client.create_study(experiment("py-queue", max_trials=4, parallel=1), runtime="external")
        queue = self.client.enqueue("py-queue", [{"lr": 0.01, "opt": "adam"}, {"lr": 0.02, "opt": "sgd"}])
        self.assertEqual(queue, [{"lr": 0.01, "opt": "adam"}, {"lr": 0.02, "opt": "sgd"}])
        with self.assertRaises(InvalidArgument) as refused:
            self.client.enqueue("py-queue", [{"lr": 0.5, "opt": "adam"}])
        self.assertEqual(refused.exception.field, "assignments[0].lr")
        self.assertEqual(len(self.client.enqueued("py-queue")), 2)
        trials = self.client.suggest("py-queue", "py", count=2)
        self.assertEqual([t.params for t in trials], queue)
        self.assertEqual(self.client.enqueued("py-queue"), [])

    def test_importance_most_important_first(self) -> None:
        study = self.client.create_study(experiment("py-imp", max_trials=20, parallel=1), runtime="external")
        for _ in range(20):
            trial = study.ask()
            assert trial is not None
            study.tell(trial, {"loss": 100 * float(trial.params["lr"]) + (1.0 if trial.params["opt"] == "adam" else 0.0)})
        ranked = self.client.importance("py-imp")
        self.assertEqual(ranked[0]["name"], "lr")
        self.assertAlmostEqual(sum(p["importance"] for p in ranked), 1.0)


if __name__ == "__main__":
    unittest.main()
