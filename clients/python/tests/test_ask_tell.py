"""Ask/tell with should_stop under a medianstop study: the laggards are told to stop, and
their tell ends them EARLY_STOPPED at the step they were stopped at."""
from __future__ import annotations

import math
import unittest

from tests.support import ServerTestCase

QUALITIES = ["0.9", "0.8", "0.7", "0.2", "0.85", "0.1", "0.3", "0.95"]
# With min_trials_required 3 and start_step 4 the first three complete; the median of their
# running averages at step 4 is 0.533, and a trial's best by step 4 is q * 0.865: 0.2, 0.1
# and 0.3 fall below it and stop at step 4, 0.85 and 0.95 do not.
LAGGARDS = ["0.2", "0.1", "0.3"]
STEPS = 10

STUDY = f"""
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {{name: median-py}}
spec:
  objective: {{type: maximize, objectiveMetricName: accuracy}}
  algorithm: {{algorithmName: grid}}
  earlyStopping:
    algorithmName: medianstop
    algorithmSettings:
      - {{name: min_trials_required, value: "3"}}
      - {{name: start_step, value: "4"}}
  parallelTrialCount: 1
  maxTrialCount: {len(QUALITIES)}
  parameters:
    - name: q
      parameterType: categorical
      feasibleSpace: {{list: [{", ".join(f'"{q}"' for q in QUALITIES)}]}}
"""


class MedianStopOverAskTell(ServerTestCase):
    def test_should_stop_stops_the_laggards(self) -> None:
        study = self.client.create_study(STUDY, runtime="external")
        seen = []
        while (trial := study.ask()) is not None:
            q = float(trial.params["q"])
            stopped_at = None
            with trial:
                for step in range(1, STEPS + 1):
                    trial.report("accuracy", q * (1 - math.exp(-step / 2)), step)
                    if trial.should_stop():
                        stopped_at = step
                        break
            # The block ended without a tell: the trial was finished on what it reported.
            seen.append((trial.params["q"], stopped_at, trial.state, trial.stopped_at_step))
        stopped = sorted(f"{q}@{at}" for q, at, state, _ in seen if state == "EARLY_STOPPED")
        self.assertEqual(stopped, sorted(f"{q}@4" for q in LAGGARDS))
        self.assertEqual([q for q, _, state, _ in seen if state == "SUCCEEDED"], [q for q in QUALITIES if q not in LAGGARDS])
        self.assertTrue(all(server_step == at for _, at, state, server_step in seen if state == "EARLY_STOPPED"))
        study.refresh()
        self.assertEqual((study.state, study.trial_counts["EARLY_STOPPED"]), ("SUCCEEDED", 3))
        self.assertEqual(study.data["earlyStopping"]["trialsStopped"], 3)
        self.assertEqual(study.data["earlyStopping"]["stepsSaved"], 3 * (STEPS - 4))
        best = study.best_trial()
        assert best is not None
        self.assertEqual(best.params["q"], "0.95")


if __name__ == "__main__":
    unittest.main()
