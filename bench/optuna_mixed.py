#!/usr/bin/python3
"""Optuna side of the mixed problems in `npm run bench:algorithms`: bench/mixed_problems.py's
problems with the same seeds and budget as bench/mixed-bench.ts, sequentially, with Optuna's
TPESampler, TPESampler(multivariate=True), CmaEsSampler (categoricals by its independent
sampler, as Optuna does) and RandomSampler. QMCSampler is left out: it needs scipy, which
Debian's python3-optuna does not pull in. Prints one JSON document on stdout:
{"optuna_version", "checkpoints", "runs": [{problem, algorithm, seed, regret: [at each checkpoint]}]}."""
import argparse
import json
import math
import multiprocessing
import sys
import warnings

import optuna

from mixed_problems import PROBLEMS

SAMPLERS = {
    "optuna-tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
    "optuna-tpe-multivariate": lambda seed: optuna.samplers.TPESampler(seed=seed, multivariate=True),
    "optuna-cmaes": lambda seed: optuna.samplers.CmaEsSampler(seed=seed),
    "optuna-random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
}


def quiet():
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore")


def suggest(trial, space):
    out = {}
    for name, kind, arg in space:
        if kind == "categorical":
            out[name] = trial.suggest_categorical(name, arg)
        elif kind == "int":
            out[name] = trial.suggest_int(name, arg[0], arg[1])
        else:
            out[name] = trial.suggest_float(name, arg[0], arg[1])
    return out


def run(task):
    quiet()
    problem, algorithm, seed, budget, checkpoints = task
    p = PROBLEMS[problem]
    study = optuna.create_study(direction="minimize", sampler=SAMPLERS[algorithm](seed))
    best = math.inf
    regret = []
    for _ in range(budget):
        trial = study.ask()
        value = p["f"](suggest(trial, p["space"]))
        study.tell(trial, value)
        best = min(best, value)
        regret.append(best - p["optimum"])
    return {"problem": problem, "algorithm": algorithm, "seed": seed, "regret": [regret[n - 1] for n in checkpoints]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=50)
    parser.add_argument("--checkpoints", default="25,50")
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--algorithms", default=",".join(SAMPLERS))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    quiet()
    checkpoints = [int(c) for c in args.checkpoints.split(",") if c and int(c) <= args.budget]
    problems = [p for p in args.problems.split(",") if p]
    algorithms = [a for a in args.algorithms.split(",") if a]
    for name in problems:
        if name not in PROBLEMS:
            sys.exit(f"unknown problem {name}")
    for name in algorithms:
        if name not in SAMPLERS:
            sys.exit(f"unknown algorithm {name}")
    tasks = [(p, a, s, args.budget, checkpoints) for p in problems for a in algorithms for s in range(1, args.seeds + 1)]
    print(f"optuna {optuna.__version__}: {len(tasks)} mixed studies on {args.workers} processes", file=sys.stderr)
    with multiprocessing.Pool(args.workers) as pool:
        runs = pool.map(run, tasks, chunksize=1)
    json.dump({"optuna_version": optuna.__version__, "checkpoints": checkpoints, "runs": runs}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
