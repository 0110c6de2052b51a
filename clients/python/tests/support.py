"""What the test modules share: one server per test class, and small study documents."""
from __future__ import annotations

import os
import sys
import unittest
from typing import Any, Dict, Optional

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))

from sibyl_client import Client, RetryPolicy  # noqa: E402
from tests.server import SibylServer  # noqa: E402


def experiment(name: str, *, max_trials: int = 6, parallel: int = 2, algorithm: str = "random",
               extra: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    spec: Dict[str, Any] = {
        "objective": {"type": "minimize", "objectiveMetricName": "loss", "additionalMetricNames": ["accuracy"]},
        "algorithm": {"algorithmName": algorithm},
        "parallelTrialCount": parallel,
        "maxTrialCount": max_trials,
        "parameters": [
            {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.001", "max": "0.1"}},
            {"name": "opt", "parameterType": "categorical", "feasibleSpace": {"list": ["sgd", "adam"]}},
        ],
    }
    spec.update(extra or {})
    return {"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment", "metadata": {"name": name}, "spec": spec}


class ServerTestCase(unittest.TestCase):
    """A real sibyl serve for the class; ``self.client`` talks to it."""

    token: Optional[str] = None
    server: SibylServer

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = SibylServer(token=cls.token).start()

    @classmethod
    def tearDownClass(cls) -> None:
        code = cls.server.stop()
        cls.server.close()
        if code != 0:
            raise AssertionError(f"sibyl serve exited {code}: {''.join(cls.server.stderr)[-2000:]}")

    def setUp(self) -> None:
        self.client = Client(self.server.url, token=self.token, retry=RetryPolicy(attempts=12))
        self.addCleanup(self.client.close)
