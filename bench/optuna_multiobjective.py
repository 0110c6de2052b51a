#!/usr/bin/python3
"""Optuna side of `npm run bench:multiobjective`: the problems of bench/multiobjective-problems.ts
(ZDT1-3 with n = 30, DTLZ2 with 3 objectives and n = 12), run with Optuna 3.1's NSGAIISampler
(population_size as given) and its MOTPE (TPESampler with several directions), one trial at a
time. Prints {"optuna_version", "runs": [{problem, algorithm, seed, values: [[f...] per trial]}]};
bench/multiobjective.ts computes the hypervolumes with the same code as for Sibyl's runs.
The functions must match bench/multiobjective-problems.ts exactly."""
import argparse
import json
import math
import sys
import warnings

import optuna


def zdt_g(x):
    return 1 + 9 * sum(x[1:]) / (len(x) - 1)


def zdt1(x):
    g = zdt_g(x)
    return [x[0], g * (1 - math.sqrt(x[0] / g))]


def zdt2(x):
    g = zdt_g(x)
    return [x[0], g * (1 - (x[0] / g) ** 2)]


def zdt3(x):
    g = zdt_g(x)
    r = x[0] / g
    return [x[0], g * (1 - math.sqrt(r) - r * math.sin(10 * math.pi * x[0]))]


def dtlz2(x):
    g = sum((v - 0.5) ** 2 for v in x[2:])
    a, b = x[0] * math.pi / 2, x[1] * math.pi / 2
    return [(1 + g) * math.cos(a) * math.cos(b), (1 + g) * math.cos(a) * math.sin(b), (1 + g) * math.sin(a)]


PROBLEMS = {"zdt1": (zdt1, 30, 2), "zdt2": (zdt2, 30, 2), "zdt3": (zdt3, 30, 2), "dtlz2": (dtlz2, 12, 3)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("--population", type=int, default=20)
    ap.add_argument("--problems", default=",".join(PROBLEMS))
    args = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore")
    runs = []
    for name in args.problems.split(","):
        fn, dims, m = PROBLEMS[name]
        for algorithm in ("optuna-nsga2", "optuna-motpe"):
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                sampler = (optuna.samplers.NSGAIISampler(population_size=args.population, seed=seed)
                           if algorithm == "optuna-nsga2" else optuna.samplers.TPESampler(seed=seed))
                study = optuna.create_study(directions=["minimize"] * m, sampler=sampler)
                values = []
                for _ in range(args.budget):
                    trial = study.ask()
                    x = [trial.suggest_float(f"x{i}", 0, 1) for i in range(dims)]
                    v = fn(x)
                    study.tell(trial, v)
                    values.append(v)
                runs.append({"problem": name, "algorithm": algorithm, "seed": seed, "values": values})
                print(f"{name} {algorithm} seed {seed} done", file=sys.stderr)
    json.dump({"optuna_version": optuna.__version__, "runs": runs}, sys.stdout)


if __name__ == "__main__":
    main()
