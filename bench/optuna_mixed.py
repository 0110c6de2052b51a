#!/usr/bin/python3
"""Optuna side of the mixed problems in `npm run bench:algorithms`: bench/mixed_problems.py's
problems with the same seeds and budget as bench/mixed-bench.ts, sequentially, with Optuna's
TPESampler, TPESampler(multivariate=True), CmaEsSampler (categoricals by its independent
sampler, as Optuna does) and RandomSampler. QMCSampler is left out: it needs scipy, which
Debian's python3-optuna does not pull in. Prints one JSON document on stdout:
{"optuna_version", "checkpoints", "runs": [{problem, algorithm, seed, regret: [at each checkpoint]}]}."""
import json
import sys

import optuna

from mixed_problems import PROBLEMS
from optuna_cli import parse_study_args, run_studies, simple_regret, study_parser

SAMPLERS = {
    "optuna-tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
    "optuna-tpe-multivariate": lambda seed: optuna.samplers.TPESampler(seed=seed, multivariate=True),
    "optuna-cmaes": lambda seed: optuna.samplers.CmaEsSampler(seed=seed),
    "optuna-random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
}


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
    problem, algorithm, seed, budget, checkpoints = task
    p = PROBLEMS[problem]
    regret = simple_regret(SAMPLERS[algorithm](seed), budget, checkpoints, lambda trial: p["f"](suggest(trial, p["space"])), p["optimum"])
    return {"problem": problem, "algorithm": algorithm, "seed": seed, "regret": regret}


def main():
    parser = study_parser(__doc__, budget=50, checkpoints=(25, 50), problems=PROBLEMS, samplers=SAMPLERS)
    args = parse_study_args(parser, problems=PROBLEMS, samplers=SAMPLERS)
    tasks = [(p, a, s, args.budget, args.checkpoints) for p in args.problems for a in args.algorithms for s in range(1, args.seeds + 1)]
    runs = run_studies(run, tasks, args.workers, "mixed studies")
    json.dump({"optuna_version": optuna.__version__, "checkpoints": args.checkpoints, "runs": runs}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
