#!/usr/bin/python3
"""The `optimizer-tree` conditional problem of bench/conditional.ts, written once more in Python
for Optuna (bench/optuna_conditional.py). Both must agree: test/conditional-bench.test.ts feeds
the same assignments to both (`conditional_problem.py --eval` reads a JSON list of assignments
on stdin and prints their values as a JSON list).

`suggest(trial)` is the define-by-run form: only the active parameters are suggested."""
import json
import math
import sys

OPTIMUM = 0.0


def optimizer_tree(a):
    u = (math.log10(a["lr"]) + 4) / 4
    if a["optimizer"] == "sgd":
        f = 6 * (u - 0.8) ** 2 + 8 * (a["momentum"] - 0.9) ** 2 + (0 if a.get("nesterov") == "on" else 0.1)
    elif a["optimizer"] == "adam":
        f = 0.08 + 2 * (u - 0.3) ** 2 + 4 * (a["beta1"] - 0.9) ** 2
    else:
        f = 0.12 + 2 * (u - 0.45) ** 2 + 3 * (a["rho"] - 0.9) ** 2
    layers = a["layers"]
    if layers == 1:
        f += 0.3
    elif layers == 2:
        f += 0.15
    else:
        f += 0.05 * (layers - 3) + 0.5 * ((math.log2(a["width3"]) - 6) / 5) ** 2
    return f


def suggest(trial):
    """The tree, define-by-run: a child is suggested only where its condition holds."""
    a = {"optimizer": trial.suggest_categorical("optimizer", ["sgd", "adam", "rmsprop"])}
    a["lr"] = trial.suggest_float("lr", 1e-4, 1, log=True)
    if a["optimizer"] == "sgd":
        a["momentum"] = trial.suggest_float("momentum", 0, 0.99)
        if a["momentum"] >= 0.5:
            a["nesterov"] = trial.suggest_categorical("nesterov", ["on", "off"])
    elif a["optimizer"] == "adam":
        a["beta1"] = trial.suggest_float("beta1", 0.5, 0.999)
    else:
        a["rho"] = trial.suggest_float("rho", 0.5, 0.99)
    a["layers"] = trial.suggest_int("layers", 1, 4)
    if a["layers"] >= 3:
        a["width3"] = trial.suggest_int("width3", 8, 256, log=True)
    return a


if __name__ == "__main__" and sys.argv[1:] == ["--eval"]:
    json.dump([optimizer_tree(a) for a in json.load(sys.stdin)], sys.stdout)
