#!/usr/bin/python3
"""The learning-curve problems of `npm run bench:early-stopping`, in Python for the Optuna side
(bench/optuna_pruners.py). Must match bench/learning-curves.ts exactly: the same constants, the
same hash, the same formulas (bench/README.md), the same rounding. No third-party imports, so
test/learning-curves.test.ts can run it with any python3.

Run as a script (the cross-language test), it reads {"crossing": [assignments], "mlp_lr": [learning
rates]} as JSON on stdin and prints {"crossing": [their curves], "mlp_lr": [their grid indexes]}.
"""
import json
import math
import struct
import sys

STEPS = 81
MASK = 0xFFFFFFFF

# ------------------------------------------------------------------ hashing


def fmix32(h):
    """murmur3's 32-bit finaliser."""
    h &= MASK
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & MASK
    h ^= h >> 16
    return h


def hash_doubles(values, seed):
    """A 32-bit hash of a list of doubles (their IEEE-754 bits, little-endian words) under a seed."""
    h = fmix32(seed & MASK)
    for v in values:
        lo, hi = struct.unpack("<II", struct.pack("<d", float(v)))
        h = fmix32(h ^ lo)
        h = fmix32(h ^ hi)
    return h


def uniform_at(h, step):
    """A uniform value in [0, 1) for step `step` of the configuration hashed to `h`."""
    return fmix32(h ^ ((step * 0x9E3779B9) & MASK)) / 4294967296


def round6(x):
    """Rounds to 6 decimals (half up), as train.mjs prints its metrics."""
    return math.floor(x * 1e6 + 0.5) / 1e6


# ------------------------------------------------------------------ the crossing simulator

SIM_SEED = 20261204
SIM_LR_MIN = 1e-4
SIM_LR_MAX = 1.0


def sim_terms(a):
    u = math.log10(a["learning_rate"] / SIM_LR_MIN) / math.log10(SIM_LR_MAX / SIM_LR_MIN)
    w = a["width"]
    r = a["regularization"]
    m = a["momentum"]
    e = u + 0.25 * m
    return {
        "e": e,
        "tau": 40 * 10 ** (-2 * (e - 0.5)) * (1 + w) * (1 + r),
        "asymptote": 0.95 - 0.8 * (e - 0.55) ** 2 - 0.12 * (1 - w) ** 2 - 0.15 * (r - 0.4) ** 2,
        "overfit": 0.08 * w * (1 - r) ** 2,
        "sigma": 0.002 + 0.01 * min(1, e),
    }


def simulator_curve(a):
    """The simulator's curve: y(t) for t = 1..STEPS, in [0, 1], rounded to 6 decimals."""
    s = sim_terms(a)
    y0 = 1 / 3
    h = hash_doubles([a["learning_rate"], a["width"], a["regularization"], a["momentum"]], SIM_SEED)
    curve = []
    for t in range(1, STEPS + 1):
        clean = y0 + (s["asymptote"] - y0) * (1 - math.exp(-t / s["tau"])) - s["overfit"] * (t / STEPS) ** 2
        noise = s["sigma"] * math.sqrt(3) * (2 * uniform_at(h, t) - 1)
        curve.append(round6(min(1.0, max(0.0, clean + noise))))
    return curve


def suggest_crossing(trial):
    return {
        "learning_rate": trial.suggest_float("learning_rate", SIM_LR_MIN, SIM_LR_MAX, log=True),
        "width": trial.suggest_float("width", 0.0, 1.0),
        "regularization": trial.suggest_float("regularization", 0.0, 1.0),
        "momentum": trial.suggest_float("momentum", 0.0, 1.0),
    }


# ------------------------------------------------------------------ the MLP table

MLP_LEARNING_RATES = [float("%.3g" % (10 ** (-2 + 2 * k / 7))) for k in range(8)]
MLP_UNITS = [4, 8, 16, 32]
MLP_LR_MIN = 10 ** (-2 - 1 / 7)
MLP_LR_MAX = 10 ** (1 / 7)


def mlp_lr_index(lr):
    """The nearest grid learning rate on the log scale (JavaScript's Math.round: halves go up)."""
    k = math.floor((math.log10(lr) + 2) * 7 / 2 + 0.5)
    return min(len(MLP_LEARNING_RATES) - 1, max(0, k))


def mlp_key(lr, layers, units):
    return "%s/%d/%d" % (repr(float(lr)), int(layers), int(units))


class MlpTable:
    def __init__(self, path):
        with open(path) as f:
            table = json.load(f)
        self.rows = {mlp_key(r["learning_rate"], r["hidden_layers"], r["units"]): r["accuracy"] for r in table["rows"]}

    def curve(self, a):
        lr = MLP_LEARNING_RATES[mlp_lr_index(a["learning_rate"])]
        return self.rows[mlp_key(lr, a["hidden_layers"], a["units"])]


def suggest_mlp(trial):
    return {
        "learning_rate": trial.suggest_float("learning_rate", MLP_LR_MIN, MLP_LR_MAX, log=True),
        "hidden_layers": trial.suggest_int("hidden_layers", 1, 4),
        "units": trial.suggest_categorical("units", MLP_UNITS),
    }


if __name__ == "__main__":
    request = json.load(sys.stdin)
    json.dump({
        "crossing": [simulator_curve(a) for a in request.get("crossing", [])],
        "mlp_lr": [mlp_lr_index(lr) for lr in request.get("mlp_lr", [])],
    }, sys.stdout)
    sys.stdout.write("\n")
