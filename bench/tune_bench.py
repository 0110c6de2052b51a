#!/usr/bin/python3
"""The tune() side of `npm run bench:api`: trials per second through sibyl_client.tune() with a
trivial objective and 1/4/16 workers, against a running `sibyl serve` (--url), and the same
loop with Optuna 3.1's ask/tell on its SQLite storage (RandomSampler, the same 1/4/16 threads,
each asking, evaluating and telling). Prints one JSON document on stdout; progress on stderr.
"""
import argparse
import json
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients", "python"))

import sibyl_client  # noqa: E402
from sibyl_client import search  # noqa: E402


def trivial(params):
    return (params["x"] - 0.3) ** 2 + params["y"] ** 2


def sibyl_rate(url, trials, workers, label="bench-tune"):
    client = sibyl_client.Client(url)
    space = {"x": search.double(-1.0, 1.0), "y": search.double(-1.0, 1.0)}
    started = time.perf_counter()
    sibyl_client.tune(trivial, space, client=client, name=f"{label}-{workers}", max_trials=trials,
                      workers=workers, algorithm="random", progress=False)
    seconds = time.perf_counter() - started
    done = client.get_study(f"{label}-{workers}").trial_counts["SUCCEEDED"]
    client.close()
    if done != trials:
        raise RuntimeError(f"sibyl: {done} of {trials} trials succeeded")
    return {"workers": workers, "trials": trials, "seconds": round(seconds, 3), "trialsPerSecond": round(trials / seconds, 1)}


def optuna_rate(folder, trials, workers):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{os.path.join(folder, f'optuna-{workers}.db')}"
    study = optuna.create_study(study_name=f"bench-{workers}", storage=storage,
                                sampler=optuna.samplers.RandomSampler(seed=1), direction="minimize")
    lock = threading.Lock()
    issued = [0]
    errors = []

    def loop():
        try:
            while True:
                with lock:
                    if issued[0] >= trials:
                        return
                    issued[0] += 1
                trial = study.ask()
                params = {"x": trial.suggest_float("x", -1.0, 1.0), "y": trial.suggest_float("y", -1.0, 1.0)}
                study.tell(trial, trivial(params))
        except Exception as err:  # noqa: BLE001 - reported in the results
            errors.append(repr(err))

    started = time.perf_counter()
    threads = [threading.Thread(target=loop) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    done = len([t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE])
    row = {"workers": workers, "trials": done, "seconds": round(seconds, 3), "trialsPerSecond": round(done / seconds, 1)}
    if errors:
        row["errors"] = errors[:3]
    return row, optuna.__version__


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--workers", default="1,4,16")
    args = parser.parse_args()
    workers = [int(w) for w in args.workers.split(",")]
    out = {"python": sys.version.split()[0], "trials": args.trials, "sibyl": [], "optuna": [], "optunaVersion": None}
    # Warm-up (not measured): the server's JIT and the first connections.
    sibyl_rate(args.url, 100, 1, "warmup")
    for w in workers:
        print(f"tune(): {w} workers ...", file=sys.stderr, flush=True)
        out["sibyl"].append(sibyl_rate(args.url, args.trials, w))
    try:
        import optuna  # noqa: F401
    except ImportError:
        out["optunaError"] = f"{sys.executable} cannot import optuna (install python3-optuna)"
    else:
        with tempfile.TemporaryDirectory() as folder:
            for w in workers:
                print(f"optuna ask/tell (SQLite): {w} threads ...", file=sys.stderr, flush=True)
                row, version = optuna_rate(folder, args.trials, w)
                out["optuna"].append(row)
                out["optunaVersion"] = version
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
