"""Every call of the client against a real sibyl serve."""
from __future__ import annotations

import json
import os
import tempfile
import unittest

from tests.support import ServerTestCase, experiment
from sibyl_client import FailedPrecondition, NotFound, Study

YAML = """
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: from-yaml}
spec:
  objective: {type: maximize, objectiveMetricName: accuracy}
  algorithm: {algorithmName: grid}
  parallelTrialCount: 1
  maxTrialCount: 3
  parameters:
    - {name: layers, parameterType: int, feasibleSpace: {min: "1", max: "3"}}
"""


class StudyCalls(ServerTestCase):
    def test_create_from_a_dict_is_idempotent_and_reads_back(self) -> None:
        doc = experiment("from-dict")
        study = self.client.create_study(doc, runtime="external")
        self.assertIsInstance(study, Study)
        self.assertEqual((study.name, study.state, study.data["runtime"]), ("from-dict", "CREATED", "external"))
        self.assertEqual((study.direction, study.metric), ("minimize", "loss"))
        again = self.client.create_study(doc, runtime="external")
        self.assertEqual(again.data["createdAt"], study.data["createdAt"])
        got = self.client.get_study("from-dict")
        self.assertEqual(got.data["spec"]["parameters"][1]["list"], ["sgd", "adam"])

    def test_create_from_yaml_text_and_from_a_file(self) -> None:
        study = self.client.create_study(YAML, runtime="external")
        self.assertEqual((study.name, study.direction, study.data["algorithm"]), ("from-yaml", "maximize", "grid"))
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "study.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(experiment("from-file"), f)
            from_file = self.client.create_study_from_file(path, runtime="external", heartbeat_seconds=30)
        self.assertEqual((from_file.name, from_file.heartbeat_seconds), ("from-file", 30))

    def test_list_follows_every_page(self) -> None:
        for i in range(3):
            self.client.create_study(experiment(f"listed-{i}"), runtime="external")
        names = [s.name for s in self.client.list_studies(page_size=1)]
        self.assertEqual(len(names), len(set(names)))
        for i in range(3):
            self.assertIn(f"listed-{i}", names)

    def test_budget_stop_and_delete(self) -> None:
        study = self.client.create_study(experiment("budgeted", max_trials=2, parallel=1), runtime="external")
        study.set_budget(parallel_trials=2, max_failed_trials=1)
        self.assertEqual((study.data["parallelTrialCount"], study.data["maxFailedTrialCount"]), (2, 1))
        # Run it to its budget, then reopen it with more.
        while (trial := study.ask(wait=False)) is not None:
            study.tell(trial, {"loss": 0.5})
        self.assertEqual((study.refresh().state, study.reason), ("SUCCEEDED", "MaxTrialsReached"))
        self.client.set_budget("budgeted", max_trials=3)
        self.assertEqual(study.refresh().state, "RUNNING")
        trial = study.ask()
        assert trial is not None
        self.assertEqual(study.stop().state, "STOPPED")
        self.assertEqual(trial.refresh().state, "KILLED")
        self.assertIsNone(study.ask(), "an ended study hands out nothing")
        study.delete()
        with self.assertRaises(NotFound):
            self.client.get_study("budgeted")


class TrialCalls(ServerTestCase):
    def test_observations_of_a_long_trial_come_from_every_page(self) -> None:
        study = self.client.create_study(experiment("long-curve", max_trials=1, parallel=1), runtime="external")
        trial = study.ask()
        assert trial is not None
        n = 10_002  # one more page than the server's 10,000 per page, and then some
        for start in range(0, n, 10_000):
            batch = [{"metric": "loss", "value": float(i), "step": i + 1} for i in range(start, min(n, start + 10_000))]
            self.assertEqual(self.client.report(trial.name, batch), len(batch))
        seen = self.client.observations(trial.name)
        self.assertEqual(len(seen), n)
        self.assertEqual([o["value"] for o in seen], [float(i) for i in range(n)], "in recorded order, none twice")

    def test_ask_report_observations_tell_and_the_best_trial(self) -> None:
        study = self.client.create_study(experiment("asktell", max_trials=3, parallel=3), runtime="external")
        self.assertIsNone(self.client.best_trial("asktell"))
        trial = study.ask()
        assert trial is not None
        self.assertEqual(trial.state, "RUNNING")
        self.assertEqual(set(trial.params), {"lr", "opt"})
        self.assertEqual(study.ask().name, trial.name, "the same client id gets its unfinished trial back")  # type: ignore[union-attr]
        self.assertEqual(trial.report("loss", 0.9, step=1), 1)
        self.assertEqual(trial.report({"loss": 0.7, "accuracy": 0.6}, step=2), 2)
        self.assertFalse(trial.should_stop())
        seen = [(o["metric"], o["step"], o["value"]) for o in trial.observations()]
        self.assertEqual(seen, [("loss", 1, 0.9), ("loss", 2, 0.7), ("accuracy", 2, 0.6)])
        told = study.tell(trial, {"loss": 0.4})
        self.assertEqual((told.state, told.objective_value), ("SUCCEEDED", 0.4))
        self.assertEqual(trial.state, "SUCCEEDED", "tell updates the trial it was given")
        self.assertEqual(trial.metrics["loss"]["min"], 0.4)
        self.assertTrue(trial.should_stop(), "an ended trial should stop")
        other = Study(self.client, study.data).ask()
        assert other is not None
        self.assertNotEqual(other.name, trial.name)
        other.tell({"loss": 0.8})
        best = study.best_trial()
        assert best is not None
        self.assertEqual((best.name, best.objective_value), (trial.name, 0.4))
        self.assertEqual(self.client.get_trial(trial.name).params, trial.params)
        self.assertEqual(self.client.log(trial.name, tail=10), [], "ask/tell trials have no log on the server")

    def test_list_filter_and_incremental_sync(self) -> None:
        study = self.client.create_study(experiment("listing", max_trials=5, parallel=5), runtime="external")
        trials = self.client.suggest("listing", "batch", count=5)
        self.assertEqual(len(trials), 5)
        for t in trials[:2]:
            self.client.complete(t.name, {"loss": 0.1})
        listed = self.client.list_trials("listing", page_size=2)
        self.assertEqual([t.name for t in listed], [t.name for t in trials])
        self.assertEqual(len(study.trials(state="SUCCEEDED")), 2)
        later = self.client.list_trials("listing", after_id=trials[2].data["seq"])
        self.assertEqual([t.name for t in later], [t.name for t in trials[3:]])

    def test_stop_trial_and_heartbeat(self) -> None:
        study = self.client.create_study(experiment("beats", max_trials=4), runtime="external", heartbeat_seconds=60)
        trial = study.ask()
        assert trial is not None
        trial.heartbeat()
        self.assertEqual(self.client.heartbeat(trial.name).state, "RUNNING")
        self.assertEqual(self.client.stop_trial(trial.name).state, "KILLED")
        with self.assertRaises(FailedPrecondition):
            trial.heartbeat()

    def test_the_context_manager_fails_a_trial_on_an_exception(self) -> None:
        study = self.client.create_study(experiment("managed", max_trials=4), runtime="external")
        trial = study.ask()
        assert trial is not None
        with self.assertRaises(ZeroDivisionError):
            with trial:
                trial.report("loss", 0.5, step=1)
                1 / 0
        trial.refresh()
        self.assertEqual((trial.state, trial.reason), ("FAILED", "Infeasible"))
        self.assertIn("ZeroDivisionError", trial.data["message"])
        # A block that ends without a tell finishes the trial on what it reported.
        second = study.ask()
        assert second is not None
        with second:
            second.report("loss", 0.25, step=1)
        self.assertEqual((second.state, second.objective_value), ("SUCCEEDED", 0.25))

    def test_infeasible(self) -> None:
        study = self.client.create_study(experiment("infeasible", max_trials=2), runtime="external")
        trial = study.ask()
        assert trial is not None
        told = study.tell(trial, infeasible=True, reason="diverged")
        self.assertEqual((told.state, told.reason, told.data["message"]), ("FAILED", "Infeasible", "diverged"))

    def test_healthy(self) -> None:
        self.assertTrue(self.client.healthy())


if __name__ == "__main__":
    unittest.main()
