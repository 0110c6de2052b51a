#!/usr/bin/python3
"""Optuna side of `npm run bench:algorithms`: the same problems, seeds and budget as
bench/algorithms.ts, run with Optuna's TPESampler, TPESampler(multivariate=True) and
CmaEsSampler, sequentially (one trial at a time). Prints one JSON document on stdout:

  {"optuna_version", "runs": [{problem, algorithm, seed, regret: [at each checkpoint]}],
   "summary": [{problem, algorithm, budget, median, q25, q75}],
   "latency": [{algorithm, trials, ms, calls}]}

Latency: ms per study.ask() plus the six suggest_float calls (Optuna's independent TPE samples
inside suggest_float, not inside ask) on hartmann6, after N uniform random completed trials
were added with study.add_trials; median of the repeats. Progress goes to stderr.

The functions below must match bench/functions.ts exactly (same constants, bounds, optima).
"""
import json
import math
import sys
import time

import numpy as np
import optuna

from optuna_cli import parse_study_args, quiet, run_studies, simple_regret, study_parser

# ------------------------------------------------------------------ bench/functions.ts, copied


def branin(x):
    b = 5.1 / (4 * math.pi ** 2)
    c = 5 / math.pi
    t = 1 / (8 * math.pi)
    x1 = x[0]
    return (x[1] - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


H6_ALPHA = [1.0, 1.2, 3.0, 3.2]
H6_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
H6_P = [[v * 1e-4 for v in row] for row in
        [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
         [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]]


def hartmann6(x):
    total = 0.0
    for i in range(4):
        inner = 0.0
        for j in range(6):
            inner += H6_A[i][j] * (x[j] - H6_P[i][j]) ** 2
        total += H6_ALPHA[i] * math.exp(-inner)
    return -total


def ackley(x):
    d = len(x)
    sq = sum(v ** 2 for v in x)
    cos = sum(math.cos(2 * math.pi * v) for v in x)
    return -20 * math.exp(-0.2 * math.sqrt(sq / d)) - math.exp(cos / d) + 20 + math.e


def rosenbrock(x):
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (x[i] - 1) ** 2 for i in range(len(x) - 1))


PROBLEMS = {
    "branin": {"f": branin, "bounds": [(-5, 10), (0, 15)], "optimum": 5 / (4 * math.pi)},
    "hartmann6": {"f": hartmann6, "bounds": [(0, 1)] * 6, "optimum": -3.3223680114},
    "ackley5": {"f": ackley, "bounds": [(-32.768, 32.768)] * 5, "optimum": 0.0},
    "rosenbrock4": {"f": rosenbrock, "bounds": [(-5, 10)] * 4, "optimum": 0.0},
}

# ------------------------------------------------------------------ samplers

SAMPLERS = {
    "optuna-tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
    "optuna-tpe-multivariate": lambda seed: optuna.samplers.TPESampler(seed=seed, multivariate=True),
    "optuna-cmaes": lambda seed: optuna.samplers.CmaEsSampler(seed=seed),
}
LATENCY_SAMPLERS = ["optuna-tpe", "optuna-tpe-multivariate"]


def run(task):
    """One study: the simple regret at each checkpoint."""
    problem, algorithm, seed, budget, checkpoints = task
    p = PROBLEMS[problem]

    def evaluate(trial):
        return p["f"]([trial.suggest_float(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(p["bounds"])])

    regret = simple_regret(SAMPLERS[algorithm](seed), budget, checkpoints, evaluate, p["optimum"])
    return {"problem": problem, "algorithm": algorithm, "seed": seed, "regret": regret}


def latency(algorithm, size, repeats):
    """Median ms per ask (+ suggest_float for every parameter) after `size` random trials."""
    p = PROBLEMS["hartmann6"]
    distributions = {f"x{i}": optuna.distributions.FloatDistribution(lo, hi) for i, (lo, hi) in enumerate(p["bounds"])}
    rng = np.random.RandomState(size)
    trials = []
    for _ in range(size):
        params = {name: float(rng.uniform(d.low, d.high)) for name, d in distributions.items()}
        trials.append(optuna.trial.create_trial(params=params, distributions=distributions, value=p["f"](list(params.values()))))
    study = optuna.create_study(direction="minimize", sampler=SAMPLERS[algorithm](1))
    study.add_trials(trials)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        trial = study.ask()
        for name, d in distributions.items():
            trial.suggest_float(name, d.low, d.high)
        times.append((time.perf_counter() - started) * 1000)
        # Failed trials are ignored by the samplers, so every call sees the same `size` trials.
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
    return {"algorithm": algorithm, "trials": size, "ms": float(np.median(times)), "calls": repeats}


def main():
    parser = study_parser(__doc__, budget=100, checkpoints=(25, 50, 100), problems=PROBLEMS, samplers=SAMPLERS)
    parser.add_argument("--latency-sizes", default="100,500,1000,2000")
    parser.add_argument("--repeats", type=int, default=5)
    args = parse_study_args(parser, problems=PROBLEMS, samplers=SAMPLERS)
    quiet()
    checkpoints, problems, algorithms = args.checkpoints, args.problems, args.algorithms

    tasks = [(p, a, s, args.budget, checkpoints) for p in problems for a in algorithms for s in range(1, args.seeds + 1)]
    started = time.time()
    runs = run_studies(run, tasks, args.workers, "studies")
    print(f"optuna studies done in {time.time() - started:.0f} s", file=sys.stderr)

    summary = []
    for p in problems:
        for a in algorithms:
            mine = [r for r in runs if r["problem"] == p and r["algorithm"] == a]
            for k, budget in enumerate(checkpoints):
                values = [r["regret"][k] for r in mine]
                q25, q50, q75 = (float(v) for v in np.quantile(values, [0.25, 0.5, 0.75]))  # linear, as bench/simulate.ts
                summary.append({"problem": p, "algorithm": a, "budget": budget, "median": q50, "q25": q25, "q75": q75})

    sizes = [int(n) for n in args.latency_sizes.split(",") if n]
    lat = [latency(a, n, args.repeats) for a in LATENCY_SAMPLERS if a in algorithms for n in sizes]
    print(f"optuna done in {time.time() - started:.0f} s", file=sys.stderr)
    json.dump({"optuna_version": optuna.__version__, "checkpoints": checkpoints, "runs": runs, "summary": summary, "latency": lat}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
