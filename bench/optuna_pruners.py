#!/usr/bin/python3
"""Optuna side of `npm run bench:early-stopping`: the same learning-curve problems, seeds and
trial counts as bench/early-stopping.ts, run with Optuna's TPESampler(seed) and each pruner:
NopPruner (no stopping), MedianPruner, SuccessiveHalvingPruner and HyperbandPruner, with the
numbers Sibyl's policies get where they correspond (bench/README.md). Sequential studies (one
trial at a time, ask/tell): a trial reports its curve step by step with trial.report(value,
step) and asks trial.should_prune() after every step but the last; a pruned trial is told
PRUNED, a finished one COMPLETE with the metric strategy `max` of its reports.

A study runs on a budget of steps, the steps its trial count of full trials takes (as on Sibyl's
side): trials start while steps are left, and the one that would overspend is cut at the budget
(full = false). The sequence of trials does not depend on the budget, so the first --trials
records are the study of that many trials (the bench's fixed-trial reading) and all of them its
equal-compute reading.

Writes one JSON document to --out:
  {"optuna_version", "runs": [{problem, method, seed, trials: [[steps, stopped, full, value, full_value], ...]}]}
(full_value: what the value would have been had the trial run its whole curve.)
Progress goes to stderr.
"""
import argparse
import json
import multiprocessing
import sys
import time
import warnings

import optuna

import learning_curves as lc

STEPS = lc.STEPS


def make_pruner(method):
    if method == "optuna-none":
        return optuna.pruners.NopPruner()
    if method == "optuna-median":
        # Sibyl medianstop: min_trials_required 3, start_step 4 (the 4th report is the first judged).
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=4, interval_steps=1)
    if method == "optuna-sha":
        # Sibyl asha: min_resource 1, reduction_factor 3, min_early_stopping_rate 0.
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3, min_early_stopping_rate=0)
    if method == "optuna-hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=STEPS, reduction_factor=3)
    raise ValueError(f"unknown method {method}")


METHODS = ["optuna-none", "optuna-median", "optuna-sha", "optuna-hyperband"]
PROBLEMS = {}


def init(mlp_table):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore")
    PROBLEMS["crossing"] = (lc.suggest_crossing, lc.simulator_curve)
    if mlp_table:
        table = lc.MlpTable(mlp_table)
        PROBLEMS["mlp"] = (lc.suggest_mlp, table.curve)


def run(task):
    problem, method, seed, n_trials, fixed_trials = task
    suggest, curve_of = PROBLEMS[problem]
    started = time.time()
    study = optuna.create_study(
        study_name=f"{problem}-{method}-{seed}",  # HyperbandPruner picks brackets from a hash of it
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=make_pruner(method),
    )
    records = []
    budget = n_trials * STEPS
    spent = 0
    while spent < budget and not (fixed_trials and len(records) >= n_trials):
        trial = study.ask()
        curve = curve_of(suggest(trial))
        stopped = False
        out_of_budget = False
        steps = 0
        for step, value in enumerate(curve, start=1):
            trial.report(value, step)
            steps = step
            # The last report ends the trial: there is nothing left to prune.
            if step == len(curve):
                break
            if spent + step == budget:
                out_of_budget = True
                break
            if trial.should_prune():
                stopped = True
                break
        spent += steps
        best = max(curve[:steps])
        if stopped or out_of_budget:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, best)
        records.append([steps, stopped, not stopped and not out_of_budget, best, max(curve)])
    print(f"  optuna {problem} {method} seed {seed}: {time.time() - started:.1f} s", file=sys.stderr)
    return {"problem": problem, "method": method, "seed": seed, "trials": records}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", default="mlp,crossing")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--trials", default="mlp=64,crossing=100", help="trials per study, per problem (its budget: that many full trials' steps)")
    parser.add_argument("--mlp-table", default="", help="the cached MLP curves (bench/results/mlp-curves.json)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", required=True)
    parser.add_argument("--fixed-trials", action="store_true", help="stop at --trials trials too (no equal-compute reading)")
    args = parser.parse_args()

    trials = dict((k, int(v)) for k, v in (kv.split("=") for kv in args.trials.split(",") if kv))
    problems = [p for p in args.problems.split(",") if p]
    methods = [m for m in args.methods.split(",") if m]
    for m in methods:
        if m not in METHODS:
            sys.exit(f"unknown method {m}")
    init(args.mlp_table)
    for p in problems:
        if p not in PROBLEMS:
            sys.exit(f"unknown problem {p} (or no --mlp-table)")

    tasks = [(p, m, s, trials[p], args.fixed_trials) for p in problems for m in methods for s in range(1, args.seeds + 1)]
    started = time.time()
    print(f"optuna {optuna.__version__}: {len(tasks)} studies on {args.workers} process(es)", file=sys.stderr)
    if args.workers > 1:
        with multiprocessing.Pool(args.workers, initializer=init, initargs=(args.mlp_table,)) as pool:
            runs = pool.map(run, tasks, chunksize=1)
    else:
        runs = [run(t) for t in tasks]
    print(f"optuna studies done in {time.time() - started:.0f} s", file=sys.stderr)
    with open(args.out, "w") as f:
        json.dump({"optuna_version": optuna.__version__, "runs": runs}, f)


if __name__ == "__main__":
    main()
