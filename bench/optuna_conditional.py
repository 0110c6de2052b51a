#!/usr/bin/python3
"""Optuna side of bench/conditional.ts: the `optimizer-tree` problem (conditional_problem.py),
define-by-run, with TPESampler, TPESampler(multivariate=True, group=True) (Optuna's own answer
to conditional spaces), CmaEsSampler (conditional parameters fall back to its independent
sampler) and RandomSampler, sequentially. Prints {"optuna_version", "runs": [{algorithm, seed,
regret: [at each checkpoint]}]} on stdout; progress on stderr."""
import argparse
import json
import math
import multiprocessing
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import optuna  # noqa: E402
from conditional_problem import OPTIMUM, optimizer_tree, suggest  # noqa: E402

SAMPLERS = {
    "optuna-random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
    "optuna-tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
    "optuna-tpe-multivariate-group": lambda seed: optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True),
    "optuna-cmaes": lambda seed: optuna.samplers.CmaEsSampler(seed=seed),
}


def run(task):
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore")
    algorithm, seed, budget, checkpoints = task
    study = optuna.create_study(direction="minimize", sampler=SAMPLERS[algorithm](seed))
    best = math.inf
    regret = []
    for _ in range(budget):
        trial = study.ask()
        value = optimizer_tree(suggest(trial))
        study.tell(trial, value)
        best = min(best, value)
        regret.append(best - OPTIMUM)
    return {"algorithm": algorithm, "seed": seed, "regret": [regret[n - 1] for n in checkpoints]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=50)
    parser.add_argument("--checkpoints", default="25,50")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    checkpoints = [int(c) for c in args.checkpoints.split(",") if c]
    tasks = [(a, s, args.budget, checkpoints) for a in SAMPLERS for s in range(1, args.seeds + 1)]
    print(f"optuna {optuna.__version__}: {len(tasks)} conditional studies on {args.workers} processes", file=sys.stderr)
    with multiprocessing.Pool(args.workers) as pool:
        runs = pool.map(run, tasks, chunksize=1)
    json.dump({"optuna_version": optuna.__version__, "runs": runs}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
