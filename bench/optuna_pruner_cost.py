"""What one Optuna 3.1 pruner decision costs on a long curve (bench/early-stopping-cost.ts).

Three trials complete with 100 reports each (0.0, 0.1, 0.2); a fourth, better than all, reports
1.0 at steps 1..N and asks should_prune() after each report, as Optuna's integrations do. Prints
one JSON document: seconds in all, the slowest report + decision in ms, and the reports made.
"""
import json
import sys
import time

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)

PRUNERS = {
    "median": lambda: optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=3),
    "sha": lambda: optuna.pruners.SuccessiveHalvingPruner(),
}


def main() -> None:
    pruner, reports = sys.argv[1], int(sys.argv[2])
    study = optuna.create_study(direction="maximize", pruner=PRUNERS[pruner](), sampler=optuna.samplers.RandomSampler(seed=1))
    for t in range(3):
        trial = study.ask()
        for step in range(1, 101):
            trial.report(0.1 * t, step)
        study.tell(trial, 0.1 * t)
    trial = study.ask()
    worst = 0.0
    made = 0
    start = time.perf_counter()
    for step in range(1, reports + 1):
        began = time.perf_counter()
        trial.report(1.0, step)
        pruned = trial.should_prune()
        worst = max(worst, time.perf_counter() - began)
        made = step
        if pruned:
            break
    print(json.dumps({"seconds": time.perf_counter() - start, "worstMs": worst * 1000, "reports": made}))


if __name__ == "__main__":
    main()
