"""The client: studies and trials over REST, and ask/tell in the style Optuna users know.

    client = Client("http://127.0.0.1:8080", token=None)
    study = client.create_study(yaml_text, runtime="external")
    trial = study.ask()                      # None once the study has ended
    with trial:                              # an exception fails the trial (infeasible)
        for step in range(1, 11):
            trial.report("accuracy", acc, step)
            if trial.should_stop():          # the study's early-stopping policy said so
                break
        study.tell(trial, {"accuracy": acc})
"""
from __future__ import annotations

import os
import threading
import time
import uuid
from types import TracebackType
from typing import Any, Dict, Iterator, List, Mapping, Optional, Type, Union
from urllib.parse import quote

from .errors import FailedPrecondition
from .transport import RetryPolicy, Transport

Json = Dict[str, Any]
ParamValue = Union[int, float, str]
Metrics = Mapping[str, float]

TERMINAL_STUDY_STATES = frozenset({"SUCCEEDED", "FAILED", "STOPPED"})
ACTIVE_TRIAL_STATES = frozenset({"CREATED", "RUNNING"})


def _seg(name: str) -> str:
    return quote(name, safe="")


class Client:
    """A connection to one Sibyl server. Thread-safe: each thread keeps its own connection."""

    def __init__(self, url: str = "http://127.0.0.1:8080", token: Optional[str] = None, *,
                 timeout: float = 30.0, retry: RetryPolicy = RetryPolicy()) -> None:
        self.transport = Transport(url, token, timeout=timeout, retry=retry)

    @property
    def url(self) -> str:
        return self.transport.url

    def close(self) -> None:
        """Closes the client's connections."""
        self.transport.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, body: Optional[Mapping[str, Any]] = None,
              query: Optional[Mapping[str, Any]] = None) -> Any:
        return self.transport.request(method, "/api/v1" + path, body, query)

    # ── studies ──────────────────────────────────────────────────────────

    def create_study(self, spec: Union[Mapping[str, Any], str], *, runtime: Optional[str] = None,
                     heartbeat_seconds: Optional[int] = None, working_dir: Optional[str] = None) -> "Study":
        """Creates a study from a Katib Experiment (a dict, or its YAML/JSON text). Idempotent by
        name: the same spec returns the existing study; a different one raises AlreadyExists.
        ``runtime``: ``"external"`` for ask/tell, ``"local"``/``"kubernetes"`` for trials the
        server launches; None takes the server's default."""
        body: Json = {"specText": spec} if isinstance(spec, str) else {"spec": dict(spec)}
        if runtime is not None:
            body["runtime"] = runtime
        if heartbeat_seconds is not None:
            body["heartbeatSeconds"] = heartbeat_seconds
        if working_dir is not None:
            body["workingDir"] = working_dir
        return Study(self, self._call("POST", "/studies", body))

    def create_study_from_file(self, path: str, *, runtime: Optional[str] = None,
                               heartbeat_seconds: Optional[int] = None) -> "Study":
        """A study file's text; local trials run in its folder (when the server is on this machine)."""
        with open(path, encoding="utf-8") as f:
            text = f.read()
        folder = os.path.dirname(os.path.abspath(path)) if runtime in (None, "local") else None
        return self.create_study(text, runtime=runtime, heartbeat_seconds=heartbeat_seconds, working_dir=folder)

    def get_study(self, name: str) -> "Study":
        return Study(self, self._call("GET", f"/studies/{_seg(name)}"))

    def list_studies(self, page_size: int = 100) -> List["Study"]:
        """Every study (all pages)."""
        return [Study(self, s) for s in self._pages("/studies", "studies", {"pageSize": page_size})]

    def delete_study(self, name: str) -> None:
        """Deletes a study with its trials (its active trials are stopped first)."""
        self._call("DELETE", f"/studies/{_seg(name)}")

    def stop_study(self, name: str) -> "Study":
        return Study(self, self._call("POST", f"/studies/{_seg(name)}/stop"))

    def set_budget(self, name: str, *, parallel_trials: Optional[int] = None, max_trials: Optional[int] = None,
                   max_failed_trials: Optional[int] = None) -> "Study":
        """Changes parallelTrialCount, maxTrialCount, maxFailedTrialCount (a study that ended at
        its trial budget reopens when given more)."""
        body = {k: v for k, v in (("parallelTrialCount", parallel_trials), ("maxTrialCount", max_trials),
                                  ("maxFailedTrialCount", max_failed_trials)) if v is not None}
        return Study(self, self._call("PATCH", f"/studies/{_seg(name)}/budget", body))

    # ── trials ───────────────────────────────────────────────────────────

    def list_trials(self, study: str, *, state: Optional[str] = None, after_id: Optional[int] = None,
                    page_size: int = 1000) -> List["Trial"]:
        """A study's trials in creation order (all pages); ``after_id`` only those with a larger seq."""
        query = {"pageSize": page_size, "state": state, "afterId": after_id}
        return [Trial(self, t) for t in self._pages(f"/studies/{_seg(study)}/trials", "trials", query)]

    def get_trial(self, name: str) -> "Trial":
        return Trial(self, self._call("GET", f"/trials/{_seg(name)}"))

    def stop_trial(self, name: str) -> "Trial":
        return Trial(self, self._call("POST", f"/trials/{_seg(name)}/stop"))

    def observations(self, trial: str) -> List[Json]:
        """Every intermediate observation ``{metric, step, value, time}`` (all pages), in recorded order."""
        return list(self._pages(f"/trials/{_seg(trial)}/observations", "observations", {}))

    def log(self, trial: str, tail: int = 100) -> List[str]:
        """The last ``tail`` lines of a trial's log (trials the server ran; empty otherwise)."""
        return list(self._call("GET", f"/trials/{_seg(trial)}/log", query={"tail": tail})["lines"])

    def best_trial(self, study: str) -> Optional["Trial"]:
        """The study's best trial so far (None before any trial succeeded)."""
        best = self.get_study(study).data.get("best")
        return self.get_trial(best["trial"]) if best else None

    def pareto_front(self, study: str) -> List["Trial"]:
        """The study's Pareto front: its completed trials no other dominates, in creation order
        (each with ``objective_values``); a single-objective study's is its best trial."""
        return [Trial(self, t) for t in self._call("GET", f"/studies/{_seg(study)}/pareto")["trials"]]

    # ── ask/tell ─────────────────────────────────────────────────────────

    def suggest(self, study: str, client_id: str, count: int = 1) -> List["Trial"]:
        """Raw ask: this client's still-active trials first, then new ones (up to ``count``; fewer,
        maybe none, when the trial budget is in flight). Raises FailedPrecondition once the study has ended."""
        answer = self._call("POST", f"/studies/{_seg(study)}/suggest", {"count": count, "clientId": client_id})
        return [Trial(self, t) for t in answer["trials"]]

    def report(self, trial: str, observations: List[Mapping[str, Any]]) -> int:
        """Intermediate values, all or nothing: ``[{metric, value, step?, time?}]``; the number accepted."""
        return int(self._call("POST", f"/trials/{_seg(trial)}/observations", {"observations": list(observations)})["accepted"])

    def complete(self, trial: str, metrics: Optional[Metrics] = None, *, infeasible: bool = False,
                 reason: Optional[str] = None, step: Optional[int] = None) -> "Trial":
        """Tell: the trial's outcome. Sent again after a lost answer, the server's "already ended"
        is the first attempt's success: the trial as it ended is returned."""
        body: Json = {}
        if metrics:
            body["metrics"] = [_observation(k, v, step) for k, v in metrics.items()]
        if infeasible:
            body["infeasible"] = True
        if reason:
            body["reason"] = reason[:1000]
        try:
            return Trial(self, self._call("POST", f"/trials/{_seg(trial)}/complete", body))
        except FailedPrecondition as err:
            if err.attempts > 1:
                ended = self.get_trial(trial)
                if ended.state not in ACTIVE_TRIAL_STATES:
                    return ended
            raise

    def heartbeat(self, trial: str) -> "Trial":
        return Trial(self, self._call("POST", f"/trials/{_seg(trial)}/heartbeat"))

    def should_stop(self, trial: str) -> bool:
        return bool(self._call("GET", f"/trials/{_seg(trial)}/should-stop")["shouldStop"])

    def enqueue(self, study: str, assignments: List[Mapping[str, Any]]) -> List[Json]:
        """Queue assignments (``{parameter: value}``, every parameter) to run before any algorithm
        suggestion, in order, each once; returns the whole queue. A value outside the space is
        InvalidArgument naming it (``assignments[1].lr``)."""
        return list(self._call("POST", f"/studies/{_seg(study)}/enqueue", {"assignments": list(assignments)})["enqueued"])

    def enqueued(self, study: str) -> List[Json]:
        """The assignments still waiting to run, in order."""
        return list(self._call("GET", f"/studies/{_seg(study)}/enqueued")["enqueued"])

    def importance(self, study: str) -> List[Json]:
        """fANOVA importance of the study's parameters, most important first:
        ``[{name, importance, mainEffect}]`` (importances sum to 1)."""
        return list(self._call("GET", f"/studies/{_seg(study)}/importance")["parameters"])

    # ── helpers ──────────────────────────────────────────────────────────

    def _pages(self, path: str, key: str, query: Mapping[str, Any]) -> Iterator[Json]:
        token: Optional[str] = None
        while True:
            answer = self._call("GET", path, query={**query, "pageToken": token})
            yield from answer[key]
            token = answer.get("nextPageToken") or None
            if token is None:
                return

    def healthy(self) -> bool:
        """Whether the server is ready (``/readyz``), without retries."""
        probe = Transport(self.transport.url, timeout=self.transport.timeout, retry=RetryPolicy(attempts=1))
        try:
            probe.request("GET", "/readyz")
            return True
        except Exception:  # noqa: BLE001 - any failure means "not ready"
            return False
        finally:
            probe.close()


def _observation(metric: str, value: float, step: Optional[int]) -> Json:
    o: Json = {"metric": metric, "value": float(value)}
    if step is not None:
        o["step"] = step
    return o


class Study:
    """A study as last read from the server (``data``), with its ask/tell calls."""

    def __init__(self, client: Client, data: Json) -> None:
        self.client = client
        self.data = data
        #: This handle's ask/tell client id: the server hands each id its own trials back first.
        self.client_id = f"py-{uuid.uuid4().hex[:12]}"

    def __repr__(self) -> str:
        return f"Study({self.name!r}, state={self.state!r}, trials={self.data.get('trials')})"

    @property
    def name(self) -> str:
        return str(self.data["name"])

    @property
    def state(self) -> str:
        return str(self.data["state"])

    @property
    def reason(self) -> Optional[str]:
        return self.data.get("reason")

    @property
    def ended(self) -> bool:
        return self.state in TERMINAL_STUDY_STATES

    @property
    def direction(self) -> str:
        return str(self.data["objective"]["type"])

    @property
    def metric(self) -> str:
        return str(self.data["objective"]["metric"])

    @property
    def trial_counts(self) -> Dict[str, int]:
        return dict(self.data["trials"])

    @property
    def heartbeat_seconds(self) -> Optional[int]:
        return self.data.get("heartbeatSeconds")

    def refresh(self) -> "Study":
        self.data = self.client._call("GET", f"/studies/{_seg(self.name)}")
        return self

    def trials(self, state: Optional[str] = None) -> List["Trial"]:
        return self.client.list_trials(self.name, state=state)

    def best_trial(self) -> Optional["Trial"]:
        return self.client.best_trial(self.name)

    def pareto_front(self) -> List["Trial"]:
        return self.client.pareto_front(self.name)

    def stop(self) -> "Study":
        self.data = self.client.stop_study(self.name).data
        return self

    def delete(self) -> None:
        self.client.delete_study(self.name)

    def set_budget(self, *, parallel_trials: Optional[int] = None, max_trials: Optional[int] = None,
                   max_failed_trials: Optional[int] = None) -> "Study":
        self.data = self.client.set_budget(self.name, parallel_trials=parallel_trials, max_trials=max_trials,
                                           max_failed_trials=max_failed_trials).data
        return self

    def ask(self, *, wait: bool = True, poll_seconds: float = 0.2) -> Optional["Trial"]:
        """The next trial to run (this handle's unfinished one first). None once the study has
        ended. While the whole trial budget is in flight elsewhere there is nothing to hand out:
        with ``wait`` it asks again until there is, or the study ends; without, None."""
        while True:
            try:
                trials = self.client.suggest(self.name, self.client_id, 1)
            except FailedPrecondition:
                self.refresh()
                if self.ended:
                    return None
                raise
            if trials:
                trial = trials[0]
                trial.study = self
                return trial
            self.refresh()
            if self.ended or not wait:
                return None
            time.sleep(poll_seconds)

    def tell(self, trial: Union["Trial", str], metrics: Optional[Metrics] = None, *, infeasible: bool = False,
             reason: Optional[str] = None) -> "Trial":
        """Completes a trial: its final ``metrics`` (``{"accuracy": 0.93}``), or ``infeasible=True``
        (ends FAILED, reason Infeasible). With no metrics, the server judges the trial on what it
        reported; a trial its policy stopped ends EARLY_STOPPED."""
        name = trial if isinstance(trial, str) else trial.name
        told = self.client.complete(name, metrics, infeasible=infeasible, reason=reason)
        if isinstance(trial, Trial):
            trial.data = told.data
            trial._told = True
        return told


class Trial:
    """A trial as last read from the server (``data``); a context manager that fails the trial
    (infeasible, with the exception as the reason) when its block raises, finishes it with what
    it reported when the block ends without a tell, and sends heartbeats meanwhile when its
    study has ``heartbeatSeconds``."""

    def __init__(self, client: Client, data: Json, study: Optional[Study] = None) -> None:
        self.client = client
        self.data = data
        self.study = study
        self._told = False
        self._beating: Optional[threading.Event] = None

    def __repr__(self) -> str:
        return f"Trial({self.name!r}, state={self.state!r}, params={self.params}, objective={self.objective_value})"

    @property
    def name(self) -> str:
        return str(self.data["name"])

    @property
    def study_name(self) -> str:
        return str(self.data["study"])

    @property
    def state(self) -> str:
        return str(self.data["state"])

    @property
    def reason(self) -> Optional[str]:
        return self.data.get("reason")

    @property
    def params(self) -> Dict[str, ParamValue]:
        """The assignment: parameter name → value."""
        return dict(self.data["assignment"])

    @property
    def objective_value(self) -> Optional[float]:
        return self.data.get("objectiveValue")

    @property
    def objective_values(self) -> Optional[List[float]]:
        """A multi-objective study's completed trial: each objective's value, in the study's order."""
        return self.data.get("objectiveValues")

    @property
    def metrics(self) -> Dict[str, Json]:
        """Per metric: ``{min, max, latest, count}``."""
        return {m["name"]: {k: v for k, v in m.items() if k != "name"} for m in self.data.get("metrics", [])}

    @property
    def stopped_at_step(self) -> Optional[int]:
        return self.data.get("stoppedAtStep")

    @property
    def feasible(self) -> Optional[bool]:
        """Outcome constraints: False when the completed trial broke a bound (it is never best),
        None when it was not judged (no constraints, or not completed)."""
        return self.data.get("feasible")

    @property
    def violation(self) -> Optional[float]:
        """How far past its constraint bounds it went, summed (0 when feasible; None when not
        judged or a constraint's metric never came)."""
        return self.data.get("violation")

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_TRIAL_STATES

    def refresh(self) -> "Trial":
        self.data = self.client.get_trial(self.name).data
        return self

    def report(self, metric: Union[str, Metrics], value: Optional[float] = None, step: Optional[int] = None) -> int:
        """An intermediate value: ``report("accuracy", 0.8, step=3)``, or several metrics of one
        step: ``report({"accuracy": 0.8, "loss": 0.4}, step=3)``."""
        if isinstance(metric, str):
            if value is None:
                raise TypeError("report(metric, value, step): value is required")
            batch = [_observation(metric, value, step)]
        else:
            batch = [_observation(k, v, step) for k, v in metric.items()]
        return self.client.report(self.name, batch)

    def should_stop(self) -> bool:
        """Whether to stop now: its study's early-stopping policy stopped it, or it has ended."""
        return self.client.should_stop(self.name)

    def heartbeat(self) -> None:
        self.client.heartbeat(self.name)

    def tell(self, metrics: Optional[Metrics] = None, *, infeasible: bool = False, reason: Optional[str] = None) -> "Trial":
        self.data = self.client.complete(self.name, metrics, infeasible=infeasible, reason=reason).data
        self._told = True
        return self

    def observations(self) -> List[Json]:
        return self.client.observations(self.name)

    def log(self, tail: int = 100) -> List[str]:
        return self.client.log(self.name, tail)

    def __enter__(self) -> "Trial":
        seconds = self.study.heartbeat_seconds if self.study else None
        if seconds:
            self._beating = threading.Event()
            threading.Thread(target=self._beat, args=(self._beating, max(0.5, seconds / 3)), daemon=True,
                             name=f"heartbeat-{self.name}").start()
        return self

    def __exit__(self, kind: Optional[Type[BaseException]], err: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        if self._beating is not None:
            self._beating.set()
        if self._told:
            return
        if err is None:
            self.tell()
            return
        try:
            self.tell(infeasible=True, reason=f"{type(err).__name__}: {err}")
        except Exception:  # noqa: BLE001 - the block's own exception is the one to see
            pass

    def _beat(self, done: threading.Event, every: float) -> None:
        while not done.wait(every):
            try:
                self.heartbeat()
            except Exception:  # noqa: BLE001 - a missed beat is retried at the next interval
                pass
