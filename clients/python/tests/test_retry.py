"""A server restarted mid-study (same port, same data directory): tune()'s workers ride it out
on their retries, and every trial of the budget still runs exactly once."""
from __future__ import annotations

import threading
import time
import unittest
from collections import Counter
from typing import Dict, List, Optional

from tests.support import ServerTestCase
from sibyl_client import Client, RetryPolicy, Trial, search, tune


class RestartMidStudy(ServerTestCase):
    def test_tune_survives_a_restart(self) -> None:
        calls: List[str] = []
        lock = threading.Lock()
        half = threading.Event()

        def objective(params: Dict[str, object], trial: Trial) -> float:
            time.sleep(0.02)
            with lock:
                calls.append(trial.name)
                if len(calls) == 15:
                    half.set()
            return float(params["x"]) ** 2  # type: ignore[arg-type]

        result: Dict[str, object] = {}

        def run() -> None:
            # Enough attempts to cover a restart: a few seconds, but over a minute on a loaded
            # 2-core machine (a node start under a load average of 20 was measured at > 20 s).
            client = Client(self.server.url, retry=RetryPolicy(attempts=90, base_seconds=0.05, max_seconds=1.0))
            try:
                result["best"] = tune(objective, {"x": search.double(-1.0, 1.0)}, client=client, name="restarted",
                                      max_trials=40, workers=4, progress=False)
            except BaseException as err:  # noqa: BLE001 - reported by the test's thread
                result["error"] = err
            finally:
                client.close()

        runner = threading.Thread(target=run)
        runner.start()
        self.assertTrue(half.wait(60), "15 trials ran before the restart")
        port = self.server.port
        self.server.stop()
        with lock:
            before = len(calls)
        self.assertLess(before, 40, "the server went down while the study ran")
        time.sleep(0.5)  # down for a while: the workers' calls are refused and retried
        self.server.start()
        self.assertEqual(self.server.port, port)
        runner.join(120)
        self.assertFalse(runner.is_alive(), "tune() finished after the restart")
        error: Optional[BaseException] = result.get("error")  # type: ignore[assignment]
        if error is not None:
            raise error
        with lock:
            ran = list(calls)
        self.assertEqual(len(ran), 40)
        self.assertEqual([n for n, c in Counter(ran).items() if c > 1], [], "no trial ran twice")
        study = self.client.get_study("restarted")
        self.assertEqual((study.state, study.trial_counts["SUCCEEDED"]), ("SUCCEEDED", 40))
        self.assertEqual(sorted(t.name for t in study.trials()), sorted(ran))


if __name__ == "__main__":
    unittest.main()
