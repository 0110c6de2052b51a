"""tune(): N workers, each trial's objective called exactly once, the best trial returned,
failures failing their trial alone, and the progress display."""
from __future__ import annotations

import io
import threading
import time
import unittest
from collections import Counter
from typing import Dict, List

from tests.support import ServerTestCase
from sibyl_client import Trial, search, tune

SPACE = {
    "x": search.double(-5.0, 5.0),
    "n": search.int(1, 4),
    "opt": search.categorical(["sgd", "adam"]),
    "batch": search.discrete([16, 32, 64]),
}


def quadratic(params: Dict[str, object]) -> float:
    """Module level: picklable for processes=True."""
    return (float(params["x"]) - 1.0) ** 2 + int(params["n"])  # type: ignore[arg-type]


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


class Tune(ServerTestCase):
    def test_four_workers_never_run_a_trial_twice(self) -> None:
        calls: List[str] = []
        values: Dict[str, float] = {}
        threads = set()
        lock = threading.Lock()

        def objective(params: Dict[str, object], trial: Trial) -> float:
            time.sleep(0.01)  # long enough that the four workers overlap
            value = quadratic(params)
            with lock:
                calls.append(trial.name)
                values[trial.name] = value
                threads.add(threading.current_thread().name)
            return value

        out = io.StringIO()
        best = tune(objective, SPACE, client=self.client, name="tune-four", max_trials=40, workers=4, stream=out)
        counts = Counter(calls)
        self.assertEqual(len(calls), 40, "one call per trial of the budget")
        self.assertEqual([n for n, c in counts.items() if c > 1], [], "no trial ran twice")
        self.assertEqual(len(threads), 4, "all four workers ran trials")
        study = self.client.get_study("tune-four")
        self.assertEqual((study.state, study.reason, study.trial_counts["SUCCEEDED"]), ("SUCCEEDED", "MaxTrialsReached", 40))
        self.assertEqual(sorted(t.name for t in study.trials()), sorted(calls))
        self.assertEqual(best.name, min(values, key=lambda n: values[n]))
        self.assertEqual(best.objective_value, values[best.name])
        self.assertEqual(set(best.params), set(SPACE))
        self.assertEqual(study.data["parallelTrialCount"], 4)
        # Not a terminal: one line per finished trial.
        lines = out.getvalue().splitlines()
        self.assertEqual(len(lines), 40)
        self.assertTrue(lines[-1].startswith("tune-four [40/40] "), lines[-1])

    def test_a_failing_objective_fails_its_trial_only(self) -> None:
        def objective(params: Dict[str, object]) -> float:
            if params["opt"] == "sgd":
                raise ValueError("sgd diverged")
            return quadratic(params)

        best = tune(objective, SPACE, client=self.client, name="tune-failing", max_trials=12, workers=2, progress=False)
        self.assertEqual(best.params["opt"], "adam")
        failed = self.client.list_trials("tune-failing", state="FAILED")
        self.assertTrue(failed, "random search over two options tries sgd in 12 trials")
        self.assertTrue(all(t.reason == "Infeasible" and "sgd diverged" in t.data["message"] for t in failed))

    def test_reports_steps_and_returns_dicts_of_metrics(self) -> None:
        def objective(params: Dict[str, object], trial: Trial) -> Dict[str, float]:
            for step in range(1, 4):
                trial.report("loss", quadratic(params) * (4 - step), step)
            return {"loss": quadratic(params), "accuracy": 0.5}

        best = tune(objective, SPACE, client=self.client, name="tune-dict", metric="loss",
                    additional_metrics=["accuracy"], max_trials=5, progress=False)
        self.assertEqual(set(best.metrics), {"loss", "accuracy"})
        self.assertEqual(len([o for o in best.observations() if o["metric"] == "loss"]), 4)

    def test_processes(self) -> None:
        best = tune(quadratic, SPACE, client=self.client, name="tune-procs", max_trials=6, workers=2, processes=True, progress=False)
        self.assertEqual(best.objective_value, quadratic(best.params))

    def test_a_terminal_gets_one_line_rewritten(self) -> None:
        out = _Tty()
        tune(quadratic, SPACE, client=self.client, name="tune-tty", max_trials=5, workers=2, stream=out)
        text = out.getvalue()
        self.assertEqual(text.count("\n"), 1, "one line, ended once")
        self.assertGreaterEqual(text.count("\r"), 5)
        self.assertIn("tune-tty: 5/5 trials · 0 running · best ", text.rsplit("\r", 1)[-1])


if __name__ == "__main__":
    unittest.main()
