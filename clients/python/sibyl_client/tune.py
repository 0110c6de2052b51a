"""tune(): a Python function as the trial of an ask/tell study, like Katib's SDK ``tune()``.

    best = tune(lambda p: (p["x"] - 2) ** 2, {"x": search.double(-5, 5)}, max_trials=30, workers=4)
    print(best.params, best.objective_value)

Each worker is a thread with its own ask/tell client id, so the server hands each worker only
its own trials; a trial's objective is called once, whatever the retries.
"""
from __future__ import annotations

import inspect
import threading
import uuid
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, TextIO, Union

from .client import Client, Study, Trial
from .errors import SibylError
from .progress import Progress
from .search import Parameter, parameters

Objective = Callable[..., Any]
Settings = Mapping[str, Union[str, int, float]]


def study_spec(name: str, space: Mapping[str, Parameter], *, metric: str, direction: str, max_trials: int,
               parallel: int, algorithm: str, algorithm_settings: Optional[Settings] = None,
               additional_metrics: Sequence[str] = (), goal: Optional[float] = None,
               max_failed_trials: Optional[int] = None, early_stopping: Optional[str] = None,
               early_stopping_settings: Optional[Settings] = None) -> Dict[str, Any]:
    """The Katib Experiment tune() creates (no trial template: the trials run here)."""
    if direction not in ("minimize", "maximize"):
        raise ValueError(f"direction must be 'minimize' or 'maximize' (got {direction!r})")
    objective: Dict[str, Any] = {"type": direction, "objectiveMetricName": metric}
    if additional_metrics:
        objective["additionalMetricNames"] = list(additional_metrics)
    if goal is not None:
        objective["goal"] = goal
    spec: Dict[str, Any] = {
        "objective": objective,
        "algorithm": {"algorithmName": algorithm, "algorithmSettings": _settings(algorithm_settings)},
        "parallelTrialCount": parallel,
        "maxTrialCount": max_trials,
        "parameters": parameters(space),
    }
    if max_failed_trials is not None:
        spec["maxFailedTrialCount"] = max_failed_trials
    if early_stopping is not None:
        spec["earlyStopping"] = {"algorithmName": early_stopping, "algorithmSettings": _settings(early_stopping_settings)}
    return {"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment", "metadata": {"name": name}, "spec": spec}


def _settings(settings: Optional[Settings]) -> List[Dict[str, str]]:
    return [{"name": k, "value": str(v)} for k, v in (settings or {}).items()]


def _takes_trial(objective: Objective) -> bool:
    """objective(params) or objective(params, trial)."""
    try:
        sig = inspect.signature(objective)
    except (TypeError, ValueError):
        return False
    positional = [p for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values())


def _metrics(result: Any, metric: str) -> Optional[Dict[str, float]]:
    """What an objective returned, as final metrics: a number is the objective metric's value;
    None means the trial reported its values itself."""
    if result is None:
        return None
    if isinstance(result, Mapping):
        return {str(k): float(v) for k, v in result.items()}
    if isinstance(result, (int, float)) and not isinstance(result, bool):
        return {metric: float(result)}
    raise TypeError(f"the objective must return a number, a dict of metrics or None (got {type(result).__name__})")


class _Run:
    """The state tune()'s workers share: which trials ran, and the first error that stops them."""

    def __init__(self, objective: Objective, metric: str, progress: Progress, pool: Optional[Executor]) -> None:
        self.objective = objective
        self.with_trial = pool is None and _takes_trial(objective)
        self.metric = metric
        self.progress = progress
        self.pool = pool
        self.lock = threading.Lock()
        self.ran: Dict[str, Optional[Dict[str, float]]] = {}
        self.calls = 0
        self.failure: Optional[BaseException] = None
        self.objective_error: Optional[BaseException] = None
        self.stop = threading.Event()

    def worker(self, study: Study) -> None:
        try:
            while not self.stop.is_set():
                trial = study.ask()
                if trial is None:
                    return
                self._run_once(study, trial)
        except BaseException as err:  # noqa: BLE001 - handed to the caller's thread
            with self.lock:
                self.failure = self.failure or err
            self.stop.set()

    def _run_once(self, study: Study, trial: Trial) -> None:
        with self.lock:
            again = trial.name in self.ran
            if not again:
                self.ran[trial.name] = None
        if again:
            # Handed back because its tell never arrived: tell it again, never run it again.
            study.tell(trial, self.ran[trial.name])
            return
        self.progress.started()
        try:
            metrics = self._evaluate(trial)
        except Exception as err:  # noqa: BLE001 - a failing trial fails alone
            with self.lock:
                self.objective_error = self.objective_error or err
            study.tell(trial, infeasible=True, reason=f"{type(err).__name__}: {err}")
        except BaseException as err:
            try:
                study.tell(trial, infeasible=True, reason=f"interrupted: {type(err).__name__}")
            finally:
                raise
        else:
            with self.lock:
                self.ran[trial.name] = metrics
            study.tell(trial, metrics)
        self.progress.finished(trial.name, trial.state, trial.objective_value)

    def _evaluate(self, trial: Trial) -> Optional[Dict[str, float]]:
        with self.lock:
            self.calls += 1
        if self.pool is not None:
            return _metrics(self.pool.submit(self.objective, trial.params).result(), self.metric)
        args = (trial.params, trial) if self.with_trial else (trial.params,)
        return _metrics(self.objective(*args), self.metric)


def tune(objective: Objective, space: Mapping[str, Parameter], *, url: str = "http://127.0.0.1:8080",
         token: Optional[str] = None, client: Optional[Client] = None, name: Optional[str] = None,
         metric: str = "objective", direction: str = "minimize", max_trials: int = 20, workers: int = 1,
         algorithm: str = "random", algorithm_settings: Optional[Settings] = None,
         additional_metrics: Sequence[str] = (), goal: Optional[float] = None,
         max_failed_trials: Optional[int] = None, early_stopping: Optional[str] = None,
         early_stopping_settings: Optional[Settings] = None, heartbeat_seconds: Optional[int] = None,
         processes: bool = False, progress: bool = True, stream: Optional[TextIO] = None) -> Trial:
    """Tunes ``objective`` over ``space`` with ``workers`` trials at a time and returns the best trial.

    ``objective(params)`` returns the metric's value (a number), a dict of metrics, or None
    when it reported them itself; ``objective(params, trial)`` also gets the trial, for
    ``trial.report(metric, value, step)`` and ``trial.should_stop()`` (with ``early_stopping``).
    An exception fails that trial (FAILED, Infeasible) and the study goes on. ``processes=True``
    runs each evaluation in a process pool (the objective must be picklable, and takes params only).
    A ``name`` that exists with the same spec resumes that study. Raises RuntimeError when no trial succeeded.
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    if max_trials < 1:
        raise ValueError("max_trials must be at least 1")
    own_client = client is None
    client = client or Client(url, token)
    try:
        return _tune(client, objective, space, name=name, metric=metric, direction=direction, max_trials=max_trials,
                     workers=workers, algorithm=algorithm, algorithm_settings=algorithm_settings,
                     additional_metrics=additional_metrics, goal=goal, max_failed_trials=max_failed_trials,
                     early_stopping=early_stopping, early_stopping_settings=early_stopping_settings,
                     heartbeat_seconds=heartbeat_seconds, processes=processes, progress=progress, stream=stream)
    finally:
        if own_client:
            client.close()


def _tune(client: Client, objective: Objective, space: Mapping[str, Parameter], *, name: Optional[str], metric: str,
          direction: str, max_trials: int, workers: int, algorithm: str, algorithm_settings: Optional[Settings],
          additional_metrics: Sequence[str], goal: Optional[float], max_failed_trials: Optional[int],
          early_stopping: Optional[str], early_stopping_settings: Optional[Settings],
          heartbeat_seconds: Optional[int], processes: bool, progress: bool, stream: Optional[TextIO]) -> Trial:
    name = name or f"tune-{uuid.uuid4().hex[:10]}"
    spec = study_spec(name, space, metric=metric, direction=direction, max_trials=max_trials, parallel=workers,
                      algorithm=algorithm, algorithm_settings=algorithm_settings, additional_metrics=additional_metrics,
                      goal=goal, max_failed_trials=max_failed_trials, early_stopping=early_stopping,
                      early_stopping_settings=early_stopping_settings)
    first = client.create_study(spec, runtime="external", heartbeat_seconds=heartbeat_seconds)
    display = Progress(name, max_trials, direction, stream, enabled=progress)
    pool = ProcessPoolExecutor(max_workers=workers) if processes else None
    run = _Run(objective, metric, display, pool)
    # Each worker its own handle, so its own client id.
    handles = [first] + [Study(client, first.data) for _ in range(workers - 1)]
    threads = [threading.Thread(target=run.worker, args=(h,), name=f"tune-worker-{i}", daemon=True)
               for i, h in enumerate(handles)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():
                t.join(0.2)  # a timed join lets Ctrl-C reach this thread
    except BaseException:
        run.stop.set()
        raise
    finally:
        display.close()
        if pool is not None:
            pool.shutdown(wait=True)
    if run.failure is not None:
        raise run.failure
    best = client.best_trial(name)
    if best is None:
        raise RuntimeError(f"study {name}: no trial succeeded") from run.objective_error
    return best


__all__ = ["tune", "study_spec", "SibylError"]
