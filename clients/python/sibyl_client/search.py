"""A search space as a plain dict, turned into a study's ``parameters`` (Katib's format).

    space = {
        "lr": search.double(0.001, 0.1, log=True),
        "layers": search.int(1, 4),
        "batch": search.discrete([16, 32, 64]),
        "opt": search.categorical(["sgd", "adam"]),
    }

Bounds are inclusive. ``log=True`` samples log-uniformly (bounds must be positive); ``step``
makes a range a grid of steps. The server validates everything again and names the field.
"""
from __future__ import annotations

import builtins
import math
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Sequence, Union

Number = Union[builtins.int, float]


@dataclass(frozen=True)
class Parameter:
    """One parameter's type and feasible space, as Katib writes them."""

    parameter_type: str
    feasible_space: Mapping[str, Any]

    def to_spec(self, name: str) -> Dict[str, Any]:
        return {"name": name, "parameterType": self.parameter_type, "feasibleSpace": dict(self.feasible_space)}


def _text(x: Number) -> str:
    # Katib's feasible spaces hold strings; repr keeps every digit of a float.
    return repr(x) if isinstance(x, float) else str(x)


def _range(kind: str, low: Number, high: Number, step: Optional[Number], log: bool) -> Parameter:
    if isinstance(low, bool) or isinstance(high, bool) or not all(isinstance(v, (builtins.int, float)) for v in (low, high)):
        raise TypeError(f"{kind}: low and high must be numbers")
    if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
        raise ValueError(f"{kind}: need finite low < high (got {low!r}, {high!r})")
    if log and low <= 0:
        raise ValueError(f"{kind}: log=True needs low > 0 (got {low!r})")
    space: Dict[str, Any] = {"min": _text(low), "max": _text(high)}
    if step is not None:
        if step <= 0:
            raise ValueError(f"{kind}: step must be positive (got {step!r})")
        space["step"] = _text(step)
    if log:
        space["distribution"] = "logUniform"
    return Parameter(kind, space)


def double(low: float, high: float, *, log: bool = False, step: Optional[float] = None) -> Parameter:
    """A real number in [low, high]."""
    return _range("double", low, high, step, log)


def int(low: builtins.int, high: builtins.int, *, log: bool = False, step: Optional[builtins.int] = None) -> Parameter:  # noqa: A001 - search.int reads as intended
    """An integer in [low, high]."""
    if not isinstance(low, builtins.int) or not isinstance(high, builtins.int):
        raise TypeError("int: low and high must be integers")
    return _range("int", low, high, step, log)


def discrete(values: Sequence[Number]) -> Parameter:
    """One of these numbers."""
    if len(values) == 0 or any(isinstance(v, bool) or not isinstance(v, (builtins.int, float)) for v in values):
        raise ValueError("discrete: give a non-empty list of numbers")
    return Parameter("discrete", {"list": [_text(v) for v in values]})


def categorical(values: Sequence[str]) -> Parameter:
    """One of these strings."""
    if len(values) == 0 or any(not isinstance(v, str) for v in values):
        raise ValueError("categorical: give a non-empty list of strings")
    return Parameter("categorical", {"list": list(values)})


def parameters(space: Mapping[str, Parameter]) -> list:
    """The ``spec.parameters`` list of a space dict."""
    if not space:
        raise ValueError("the search space is empty")
    out = []
    for name, p in space.items():
        if not isinstance(p, Parameter):
            raise TypeError(f"space[{name!r}] must be made with sibyl_client.search (double, int, discrete, categorical)")
        out.append(p.to_spec(name))
    return out


__all__ = ["Parameter", "double", "int", "discrete", "categorical", "parameters"]
