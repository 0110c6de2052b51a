"""examples/notebooks/tune-mlp.ipynb: a real nbformat 4 notebook with its outputs cleared, whose
code cells run in order (no Jupyter) against a real server and reach the best trial."""
from __future__ import annotations

import contextlib
import io
import json
import os
import unittest
from typing import Any, Dict
from unittest import mock

from tests.server import REPO
from tests.support import ServerTestCase
from sibyl_client import Trial

NOTEBOOK = os.path.join(REPO, "examples", "notebooks", "tune-mlp.ipynb")


class TuneMlpNotebook(ServerTestCase):
    def test_cells_run_in_order_and_reach_the_best_trial(self) -> None:
        with open(NOTEBOOK, encoding="utf-8") as f:
            nb = json.load(f)
        self.assertEqual(nb["nbformat"], 4)
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        self.assertGreaterEqual(len(code), 5)
        for cell in code:
            self.assertEqual((cell["outputs"], cell["execution_count"]), ([], None), "outputs are cleared")
        namespace: Dict[str, Any] = {"__name__": "__main__"}
        out = io.StringIO()
        with mock.patch.dict(os.environ, {"SIBYL_URL": self.server.url}), contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(out):
            for i, cell in enumerate(code):
                source = "".join(cell["source"])
                exec(compile(source, f"{NOTEBOOK} code cell {i + 1}", "exec"), namespace)  # noqa: S102 - the notebook's own code
        self.addCleanup(namespace["client"].close)
        best = namespace["best"]
        self.assertIsInstance(best, Trial)
        study = self.client.get_study(namespace["study_name"])
        self.assertEqual((study.state, study.trial_counts["SUCCEEDED"]), ("SUCCEEDED", 12))
        self.assertEqual(best.name, study.data["best"]["trial"])
        self.assertGreater(best.objective_value, 0.6, "the best of 12 trials learns the spirals better than chance")
        text = out.getvalue()
        self.assertIn(f"best trial: {best.name}", text)
        # The history: a plot with matplotlib, else a text table with a row per trial.
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            self.assertEqual(sum(1 for line in text.splitlines() if f" {namespace['study_name']}-" in line and line.strip()[0].isdigit()), 12)


if __name__ == "__main__":
    unittest.main()
