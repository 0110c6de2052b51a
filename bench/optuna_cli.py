"""What the Optuna sides of the regret benches share: their command line (checked once, here),
quiet logging, and the pool that runs one study per task."""
import argparse
import math
import multiprocessing
import sys
import warnings

import optuna


def quiet():
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore")  # ExperimentalWarning for multivariate TPE and others


def study_parser(description, budget, checkpoints, problems=None, samplers=None):
    """The flags every regret bench takes; --problems and --algorithms where it has a choice."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=budget)
    parser.add_argument("--checkpoints", default=",".join(str(c) for c in checkpoints))
    parser.add_argument("--workers", type=int, default=2)
    if problems is not None:
        parser.add_argument("--problems", default=",".join(problems))
    if samplers is not None:
        parser.add_argument("--algorithms", default=",".join(samplers))
    return parser


def parse_study_args(parser, problems=None, samplers=None):
    """Parsed flags, with checkpoints as ints within the budget and the named problems and
    algorithms as lists; an unknown name ends the script with its name."""
    args = parser.parse_args()
    args.checkpoints = [int(c) for c in args.checkpoints.split(",") if c and int(c) <= args.budget]
    for flag, known in (("problems", problems), ("algorithms", samplers)):
        if known is None:
            continue
        names = [n for n in getattr(args, flag).split(",") if n]
        for name in names:
            if name not in known:
                sys.exit(f"unknown {flag[:-1]} {name}")
        setattr(args, flag, names)
    return args


def run_studies(run, tasks, workers, what):
    """`run` over `tasks` on `workers` processes, in task order."""
    print(f"optuna {optuna.__version__}: {len(tasks)} {what} on {workers} processes", file=sys.stderr)
    with multiprocessing.Pool(workers) as pool:
        return pool.map(run, tasks, chunksize=1)


def simple_regret(sampler, budget, checkpoints, evaluate, optimum):
    """One sequential, minimised study of `budget` trials: its simple regret (best so far - f*)
    at each checkpoint. `evaluate(trial)` suggests the parameters and returns the value."""
    quiet()
    study = optuna.create_study(direction="minimize", sampler=sampler)
    best = math.inf
    regret = []
    for _ in range(budget):
        trial = study.ask()
        value = evaluate(trial)
        study.tell(trial, value)
        best = min(best, value)
        regret.append(best - optimum)
    return [regret[n - 1] for n in checkpoints]
