"""The mixed-space problems of bench/mixed.ts, in Python for Optuna's side of the bench
(bench/optuna_mixed.py). Same constants, same spaces; test/mixed-space.test.ts evaluates both
on the same points. Each problem: "space" as (name, kind, choices or bounds), "f" on a dict.

Run as a script, it reads a JSON list of {"problem", "assignment"} on stdin and prints the list
of values (what the test compares with bench/mixed.ts); it needs no Optuna."""
import json
import sys

BOWLS = {
    "sgd": (0.3, 0.6, (0.3, 0.7)),
    "adam": (0.4, 0.5, (0.5, 0.5)),
    "rmsprop": (0.45, 0.5, (0.6, 0.35)),
}
STEEP_SCALE = 7
STEEP_AT = (0.85, 0.15)


def hidden_optimizer(a):
    x = (a["lr"], a["wd"])
    bowl = BOWLS.get(a["optimizer"])
    if bowl is not None:
        floor, scale, at = bowl
        return floor + scale * ((x[0] - at[0]) ** 2 + (x[1] - at[1]) ** 2)
    return STEEP_SCALE * ((x[0] - STEEP_AT[0]) ** 2 + (x[1] - STEEP_AT[1]) ** 2)


MODELS = {"linear": (0.2, 0.2, 2), "tree": (0.1, 0.5, 2), "net": (0.0, 0.8, 6)}
ACTIVATIONS = {"relu": 0.0, "tanh": 0.05, "gelu": 0.1}


def shifted_model(a):
    floor, centre, layers = MODELS[a["model"]]
    return floor + ACTIVATIONS[a["activation"]] + 4 * (a["x"] - centre) ** 2 + 0.02 * (a["layers"] - layers) ** 2


PROBLEMS = {
    "hidden-optimizer": {
        "f": hidden_optimizer,
        "optimum": 0.0,
        "space": [
            ("optimizer", "categorical", ["sgd", "adam", "rmsprop", "adagrad"]),
            ("lr", "float", (0.0, 1.0)),
            ("wd", "float", (0.0, 1.0)),
        ],
    },
    "shifted-model": {
        "f": shifted_model,
        "optimum": 0.0,
        "space": [
            ("model", "categorical", list(MODELS)),
            ("activation", "categorical", list(ACTIVATIONS)),
            ("layers", "int", (1, 8)),
            ("x", "float", (0.0, 1.0)),
        ],
    },
}


if __name__ == "__main__":
    json.dump([PROBLEMS[p["problem"]]["f"](p["assignment"]) for p in json.load(sys.stdin)], sys.stdout)
    sys.stdout.write("\n")
