#!/usr/bin/python3
"""Optuna side of bench/conditional.ts: the `optimizer-tree` problem (conditional_problem.py),
define-by-run, with TPESampler, TPESampler(multivariate=True, group=True) (Optuna's own answer
to conditional spaces), CmaEsSampler (conditional parameters fall back to its independent
sampler) and RandomSampler, sequentially. Prints {"optuna_version", "runs": [{algorithm, seed,
regret: [at each checkpoint]}]} on stdout; progress on stderr."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import optuna  # noqa: E402
from conditional_problem import OPTIMUM, optimizer_tree, suggest  # noqa: E402
from optuna_cli import parse_study_args, run_studies, simple_regret, study_parser  # noqa: E402

SAMPLERS = {
    "optuna-random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
    "optuna-tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
    "optuna-tpe-multivariate-group": lambda seed: optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True),
    "optuna-cmaes": lambda seed: optuna.samplers.CmaEsSampler(seed=seed),
}


def run(task):
    algorithm, seed, budget, checkpoints = task
    regret = simple_regret(SAMPLERS[algorithm](seed), budget, checkpoints, lambda trial: optimizer_tree(suggest(trial)), OPTIMUM)
    return {"algorithm": algorithm, "seed": seed, "regret": regret}


def main():
    args = parse_study_args(study_parser(__doc__, budget=50, checkpoints=(25, 50)))
    tasks = [(a, s, args.budget, args.checkpoints) for a in SAMPLERS for s in range(1, args.seeds + 1)]
    runs = run_studies(run, tasks, args.workers, "conditional studies")
    json.dump({"optuna_version": optuna.__version__, "runs": runs}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
